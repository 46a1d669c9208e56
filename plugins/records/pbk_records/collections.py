"""The collections registry: ``_collections`` rows in memory, and validated schema changes.

Reads come from an in-memory map that is replaced, never mutated, after every committed
change, so request handlers see a consistent schema without touching the database.
"""

from __future__ import annotations

import contextvars
import copy
import functools
import re
import string
import time
from collections.abc import Callable, Mapping
from typing import Any

import apsw
from pbk_sdk.auth import SUPERUSERS
from pbk_sdk.errors import ApiError, FieldError
from pbk_sdk.ids import new_id
from pbk_sdk.mappings import deep_merge

from . import auth_options, ddl, field_list, oauth2_options, view_query
from . import indexes as index_statements
from .schema import (
    AUTH_OPTIONS,
    AUTH_RULES,
    RULES,
    TYPES,
    Collection,
    Field,
    collection_id,
    option_keys,
)

#: Collection, field and collection id names: ASCII letters, digits and ``_`` (Go's ``^\w+$``,
#: which is ASCII-only and has no trailing-newline match); use with ``fullmatch``.
NAME = re.compile(r"[A-Za-z0-9_]+")
NAME_MAX = 255
FIELD_NAME_MAX = 100
#: Field names PocketBase keeps for itself (besides ``expand`` and the output's collection keys).
EXCLUDED_FIELD_NAMES = frozenset({"null", "true", "false", "_rowid_"})
VIA = "_via_"
SECRET_ALPHABET = string.ascii_letters + string.digits
INVALID_FORMAT = "Failed to load the submitted data due to invalid formatting."
INDEX_SHAPE = re.compile(
    r"^\s*CREATE\s+(UNIQUE\s+)?INDEX\s+(IF\s+NOT\s+EXISTS\s+)?[`\"\[]?\w+[`\"\]]?\s+"
    r"ON\s+[`\"\[]?(?P<table>\w*)[`\"\]]?\s*\(.+\)(\s+WHERE\s+.+)?\s*;?\s*$",
    re.IGNORECASE | re.DOTALL,
)
VIEW_QUERY = re.compile(r"^\s*(SELECT|WITH)\b", re.IGNORECASE)
RESERVED_FIELD_NAMES = frozenset({"expand", "collectionId", "collectionName"}) | EXCLUDED_FIELD_NAMES


def now() -> str:
    """PocketBase's datetime format: ``2006-01-02 15:04:05.000Z`` (UTC, the milliseconds cut
    as ``datetime.now`` cuts its microseconds); every write stamps its record with it."""
    ns = time.time_ns()
    return f"{_utc_second(ns // 1_000_000_000)}.{ns // 1_000_000 % 1000:03d}Z"


@functools.lru_cache(maxsize=2)
def _utc_second(seconds: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(seconds))


def new_secret() -> str:
    return new_id(50, SECRET_ALPHABET)


def load_all(conn: apsw.Connection) -> list[Collection]:
    cursor = conn.execute("SELECT * FROM _collections ORDER BY rowid")
    names = [d[0] for d in cursor.getdescription()]
    return [Collection.from_row(dict(zip(names, row, strict=True))) for row in cursor]


def insert_row(conn: apsw.Connection, collection: Collection) -> None:
    row = collection.to_row()
    q = ddl.quoter(ddl.engine_of(conn))
    columns = ", ".join(q(c) for c in row)
    conn.execute(
        f"INSERT INTO _collections ({columns}) VALUES ({', '.join('?' for _ in row)})",
        tuple(row.values()),
    )


def update_row(conn: apsw.Connection, collection: Collection) -> None:
    row = collection.to_row()
    q = ddl.quoter(ddl.engine_of(conn))
    assignments = ", ".join(f"{q(c)} = ?" for c in row if c != "id")
    conn.execute(
        f"UPDATE _collections SET {assignments} WHERE id = ?",
        (*[v for c, v in row.items() if c != "id"], collection.id),
    )


def _index_on(index: str, tables: set[str]) -> bool:
    """An index statement of PocketBase's shape on this collection's table (no other table,
    no other kind of statement; a second statement is refused when it runs)."""
    match = INDEX_SHAPE.match(index)
    return match is not None and match["table"].lower() in tables


def _put(errors: dict[str, Any], key: str, problem: Any) -> None:
    if problem:
        errors[key] = problem


def _collection_type(payload: Mapping[str, Any], existing: Collection | None, failure: str) -> str:
    """The type of the collection: the stored one, else the posted one (``base`` by default).
    Raises ``ApiError(400)`` for an unknown type, before any other check."""
    ctype = (existing.type if existing else payload.get("type")) or "base"
    if not isinstance(ctype, str) or ctype not in TYPES:
        raise ApiError(400, failure, {"type": FieldError("validation_in_invalid", "Must be a valid value.")})
    return ctype


def _rules(merged: Mapping[str, Any], errors: dict[str, Any]) -> dict[str, str | None]:
    """The API rules: a string, or None for superusers only."""
    rules: dict[str, str | None] = {}
    for rule in RULES:
        value = merged.get(rule)
        if value is not None and not isinstance(value, str):
            errors[rule] = FieldError("validation_invalid_rule", "Invalid rule.")
            continue
        rules[rule] = value
    return rules


def _check_system_rules(
    existing: Collection, ctype: str, rules: Mapping[str, Any], options: Mapping[str, Any], errors: dict[str, Any]
) -> None:
    """A system collection keeps its API rules."""
    for rule in RULES + (AUTH_RULES if ctype == "auth" else ()):
        new_value = rules.get(rule) if rule in RULES else options.get(rule)
        if new_value != existing.rule(rule):
            errors[rule] = FieldError(
                "validation_collection_system_rule_change", "System collection API rule cannot be changed."
            )


def _check_view_query(query: str, errors: dict[str, Any]) -> None:
    """PocketBase's checks of a view query before it runs: a failure leaves the view without
    fields, so its answer names ``fields`` too."""
    try:
        view_query.check_identifiers(view_query.normalize(query))
    except view_query.ViewQueryError as exc:
        errors["fields"] = FieldError("validation_required", "Cannot be blank.")
        errors["viewQuery"] = FieldError("validation_invalid_view_query", f"Invalid query - {exc}")
        return
    if not VIEW_QUERY.match(query):
        errors["viewQuery"] = FieldError("validation_invalid_view_query", "Invalid query - only a single SELECT is allowed.")


def _indexes_problem(indexes: Any, name: Any, existing: Collection | None, ctype: str) -> Any:
    """Index statements must be strings of PocketBase's shape on this table; views have none."""
    if not isinstance(indexes, list) or not all(isinstance(i, str) for i in indexes):
        return FieldError("validation_invalid_index_expression", "Invalid index expression.")
    if ctype == "view" and indexes:
        return FieldError("validation_invalid_index_expression", "View collections cannot have indexes.")
    old_name = existing.name if existing else None
    tables = {str(name).lower(), str(old_name or name).lower()}
    return {
        str(i): FieldError("validation_invalid_index_expression", "Invalid index expression.")
        for i, index in enumerate(indexes)
        if not _index_on(index, tables)
    }


def _take_stored_id(data: dict[str, Any], existing: Collection | None) -> None:
    """A field sent without id updates the stored field of its name and type: it takes that id."""
    same_name = existing.field(str(data.get("name", ""))) if existing and not data.get("id") else None
    if same_name is not None and same_name.type == data.get("type"):
        data["id"] = same_name.id


def _length_problem(maximum: int) -> FieldError:
    return FieldError(
        "validation_length_out_of_range", f"The length must be between 1 and {maximum}.", {"max": maximum, "min": 1}
    )


def _name_shape_problem(name: Any, maximum: int) -> FieldError | None:
    """PocketBase's first checks of a collection or field name, in its order: present, length
    (in characters), no ``_via_`` (the back-relation separator), ASCII word characters."""
    if not isinstance(name, str) or not name:
        return FieldError("validation_required", "Cannot be blank.")
    if len(name) > maximum:
        return _length_problem(maximum)
    if VIA in name:
        return FieldError("validation_found_via", f'The value cannot contain "{VIA}".')
    if not NAME.fullmatch(name):
        return FieldError("validation_match_invalid", "Must be in a valid format.")
    return None


def _field_name_problem(name: Any) -> FieldError | None:
    """A field name: a word, not reserved (duplicates are a check of the whole list)."""
    problem = _name_shape_problem(name, FIELD_NAME_MAX)
    if problem is None and name in RESERVED_FIELD_NAMES:
        problem = FieldError("validation_not_in_invalid", "Must not be in list.")
    return problem


class Registry:
    """Every collection by id and by name (names match case-insensitively, as in PocketBase)."""

    def __init__(self, collections: list[Collection] | None = None) -> None:
        self.replace(collections or [])

    def replace(self, collections: list[Collection]) -> None:
        self._all = tuple(collections)
        self._by_id = {c.id: c for c in collections}
        self._by_name = {c.name.lower(): c for c in collections}

    def all(self) -> tuple[Collection, ...]:
        return self._all

    def get(self, id_or_name: str) -> Collection | None:
        return self._by_id.get(id_or_name) or self._by_name.get(id_or_name.lower())

    __call__ = get  # a registry is also the filter compiler's schema lookup

    def references_to(self, target: Collection) -> list[tuple[Collection, Field]]:
        """Relation fields of other collections that point at ``target``."""
        return [
            (collection, field)
            for collection in self._all
            for field in collection.fields
            if field.type == "relation" and field.get("collectionId") == target.id
        ]


#: While an import runs, the schema it is building (uncommitted): its own steps see it, every
#: other request keeps the shared, committed registry.
import_view: contextvars.ContextVar[Registry | None] = contextvars.ContextVar("pbk_records_import", default=None)


def current_schema(registry: Registry) -> Registry:
    """The schema this task sees: the uncommitted one of an import or migration it runs in,
    else the shared ``registry``."""
    return import_view.get() or registry


class SchemaBuilder:
    """Turns collection JSON from the API into validated ``Collection`` objects."""

    def __init__(
        self,
        registry: Registry,
        field_types: Mapping[str, Any],
        complete_field: Callable[[dict[str, Any], Mapping[str, Any]], dict[str, Any]],
        scaffolds: Mapping[str, Collection],
        validate_rule: Callable[[str, Collection], str | None],
    ) -> None:
        self._registry = registry
        self.field_types = field_types
        self.complete_field = complete_field
        self.scaffolds = scaffolds
        self.validate_rule = validate_rule

    @property
    def registry(self) -> Registry:
        return current_schema(self._registry)

    def build(self, payload: Mapping[str, Any], existing: Collection | None, failure: str) -> Collection:
        """A collection from ``payload`` merged over ``existing`` (None for a new one).

        Raises ``ApiError(400, failure, {...field errors})`` like PocketBase's forms. The
        checks run in PocketBase's order, which is the order of the keys in that error.
        """
        if not isinstance(payload, Mapping):
            raise ApiError(400, INVALID_FORMAT)
        ctype = _collection_type(payload, existing, failure)
        merged = self._merged(payload, existing, ctype)
        errors: dict[str, Any] = {}
        if existing is not None and payload.get("type", existing.type) != existing.type:
            errors["type"] = FieldError("validation_collection_type_change", "Collection type cannot be changed.")
        name: Any = merged.get("name")
        _put(errors, "name", self._name_problem(name, existing))
        if existing is None:
            cid = merged.get("id") or collection_id(ctype, name if isinstance(name, str) else "")
            _put(errors, "id", self._id_problem(cid))
        else:
            cid = existing.id
        fields = self._fields(merged.get("fields"), existing, ctype, errors)
        rules = _rules(merged, errors)
        options = self._options(merged, existing, ctype, errors)
        if existing is not None and existing.system:
            _check_system_rules(existing, ctype, rules, options, errors)
        indexes = merged.get("indexes") or []
        _put(errors, "indexes", _indexes_problem(indexes, name, existing, ctype))
        if ctype == "auth" and "indexes" not in errors and isinstance(name, str):
            final_indexes = self._indexes(list(indexes), existing, ctype, cid, name)
            oauth2_options.clear_unknown_mapped_fields(options.get("oauth2"), [f.name for f in fields])
            for key, problem in auth_options.check(options, [f.name for f in fields], final_indexes).items():
                if isinstance(errors.get(key), dict) and isinstance(problem, dict):
                    errors[key].update(problem)
                else:
                    errors[key] = problem
            if existing is not None and existing.name == SUPERUSERS:
                auth_options.force_superusers(options)
        if ctype == "view" and isinstance(merged.get("viewQuery"), str) and "viewQuery" not in errors:
            _check_view_query(merged["viewQuery"], errors)
        if errors:
            raise ApiError(400, failure, errors)
        collection = Collection(
            id=cid,
            name=name,
            type=ctype,
            system=existing.system if existing else False,
            fields=fields,
            indexes=self._indexes(indexes, existing, ctype, cid, name),
            rules=rules,
            options=options,
            created=existing.created if existing else now(),
            updated=now(),
        )
        self._check_rule_expressions(collection, failure)
        return collection

    def _merged(self, payload: Mapping[str, Any], existing: Collection | None, ctype: str) -> dict[str, Any]:
        """The payload over the stored collection JSON (a new one starts from its type's
        scaffold). Option objects merge into the stored ones ({"otp": {"enabled": true}}
        keeps the duration and template), as PocketBase's PATCH does."""
        if existing is not None:
            base = existing.to_json()
        else:
            base = self.scaffolds[ctype].to_json()
            base["id"] = ""
        merged = {**base, **{k: copy.deepcopy(v) for k, v in payload.items()}}
        for key in option_keys(ctype):
            if isinstance(base.get(key), Mapping) and isinstance(payload.get(key), Mapping):
                merged[key] = deep_merge(base[key], payload[key])
        return merged

    def _name_problem(self, name: Any, existing: Collection | None) -> FieldError | None:
        problem = _name_shape_problem(name, NAME_MAX)
        if problem is None:
            other = self.registry.get(name)
            if other is not None and (existing is None or other.id != existing.id):
                if other.name.lower() == name.lower():
                    problem = FieldError("validation_collection_name_exists", "Collection name must be unique (case insensitive).")
                else:
                    problem = FieldError("validation_collection_name_id_duplicate", "The name must not match an existing collection id.")
        if existing is not None and existing.system and name != existing.name:
            problem = FieldError("validation_collection_system_name_change", "System collection name cannot be changed.")
        return problem

    def _id_problem(self, cid: Any) -> FieldError | None:
        """The id of a new collection: PocketBase's format, not taken."""
        if not isinstance(cid, str) or not NAME.fullmatch(cid) or len(cid) > 100:
            return FieldError("validation_invalid_format", "Invalid id format.")
        taken = self.registry.get(cid)
        if taken is not None and taken.id == cid:
            return FieldError("validation_not_unique", "Value must be unique.")
        return None

    def _options(
        self, merged: Mapping[str, Any], existing: Collection | None, ctype: str, errors: dict[str, Any]
    ) -> dict[str, Any]:
        """The type's options (auth and view keys at the top level of the collection JSON)."""
        options = {key: merged[key] for key in option_keys(ctype) if key in merged}
        if ctype == "view":
            query = options.get("viewQuery")
            if not isinstance(query, str) or not query.strip():
                errors["viewQuery"] = FieldError("validation_required", "Cannot be blank.")
        if ctype == "auth":
            self._auth_options(options, existing, errors)
        return options

    def _check_rule_expressions(self, collection: Collection, failure: str) -> None:
        """Every rule compiles against the collection as it will be; raises ``ApiError(400)``."""
        rule_errors = {}
        for rule in RULES + (AUTH_RULES if collection.type == "auth" else ()):
            expression = collection.rule(rule)
            if expression:
                problem = self.validate_rule(expression, collection)
                if problem:
                    rule_errors[rule] = FieldError("validation_invalid_rule", f"Invalid rule. Raw error: {problem}")
        if rule_errors:
            raise ApiError(400, failure, rule_errors)

    def _indexes(
        self, indexes: list[str], existing: Collection | None, ctype: str, cid: str, name: str
    ) -> list[str]:
        """Index statements as given, but rebuilt in PocketBase's normal form when they name
        another table (a rename); an auth collection gets its unique ``tokenKey`` and
        ``email`` indexes as PocketBase adds them."""
        indexes = [index_statements.for_table(i, name) for i in indexes]
        if ctype == "auth" and existing is None:
            lowered = " ".join(indexes).lower()
            if "(`tokenkey`)" not in lowered.replace(" ", "").replace('"', "`"):
                indexes.append(f"CREATE UNIQUE INDEX `idx_tokenKey_{cid}` ON `{name}` (`tokenKey`)")
            if "(`email`)" not in lowered.replace(" ", "").replace('"', "`"):
                indexes.append(f"CREATE UNIQUE INDEX `idx_email_{cid}` ON `{name}` (`email`) WHERE `email` != ''")
        return indexes

    def _fields(
        self, raw: Any, existing: Collection | None, ctype: str, errors: dict[str, Any]
    ) -> list[Field]:
        """The collection's fields in PocketBase's final list, checked. A problem goes to
        ``errors["fields"]``, keyed by position in that list (see ``field_list``)."""
        if raw is None:
            raw = [f.to_json() for f in existing.fields] if existing else []
        if not isinstance(raw, list) or not all(isinstance(f, Mapping) for f in raw):
            errors["fields"] = FieldError("validation_invalid_value", "Invalid value.")
            return []
        entries = [self._field(dict(data), existing) for data in raw]
        if ctype == "view":  # PocketBase replaces them by the query's columns before any check
            return [entry.field for entry in entries]
        defaults = [self._field(f.to_json(), existing) for f in self.scaffolds[ctype].fields]
        entries = field_list.with_system_fields(field_list.merged(entries), defaults)
        _put(errors, "fields", field_list.problem(entries, existing, ctype))
        return [entry.field for entry in entries]

    def _field(self, data: dict[str, Any], existing: Collection | None) -> field_list.Entry:
        """One posted field as PocketBase stores it, with its settings problems. Raises
        ``ApiError(400)`` for a field PocketBase cannot even decode."""
        problems: dict[str, Any] = {}
        ftype = data.get("type")
        if ftype not in self.field_types:
            raise ApiError(400, INVALID_FORMAT)
        sent_without_id = not data.get("id")
        _take_stored_id(data, existing)
        _put(problems, "name", _field_name_problem(data.get("name")))
        try:
            completed = self.complete_field(data, self.field_types)
        except ValueError as exc:  # fields.FieldFormatError: not even decodable
            raise ApiError(400, INVALID_FORMAT) from exc
        field = Field(completed)
        problems.update(self.field_types[field.type].check_options(field.data))
        if field.type == "relation" and field.get("collectionId"):
            # By id only, as PocketBase: a name would not survive a rename (nor open in it).
            problems.update(self._relation_target_problem(field, existing))
        return field_list.Entry(field, problems, sent_without_id)

    def _relation_target_problem(self, field: Field, existing: Collection | None) -> dict[str, FieldError]:
        """PocketBase's checks of a relation's ``collectionId``: it stays what it was, and names
        an existing collection, by id only (a name would not survive a rename), which is not a
        view (only a view may relate to a view; a view's own fields are never checked here)."""
        target_id = field.get("collectionId")
        before = existing.field_by_id(field.id) if existing is not None and field.id else None
        if before is not None and before.type == "relation" and before.get("collectionId") != target_id:
            return {"collectionId": FieldError("validation_field_relation_change",
                                               "The relation collection cannot be changed.")}
        target = self.registry.get(str(target_id))
        if target is None or target.id != target_id:
            return {"collectionId": FieldError("validation_field_relation_missing_collection",
                                               "The relation collection doesn't exist.")}
        if target.is_view:
            return {"collectionId": FieldError("validation_relation_field_non_view_base_collection",
                                               "Only view collections are allowed to have relations to other views.")}
        return {}

    def _auth_options(self, options: dict[str, Any], existing: Collection | None, errors: dict[str, Any]) -> None:
        previous = existing.options if existing else self.scaffolds["auth"].options
        for key in AUTH_OPTIONS:
            if key not in options and key in previous:
                options[key] = copy.deepcopy(previous[key])
        oauth2_options.merge_stored_providers(options.get("oauth2"), previous.get("oauth2"))
        if options.get("manageRule") == "":
            errors["manageRule"] = FieldError("validation_nil_or_not_empty_required", "Must be nil or not empty.")
        for key, value in options.items():
            if key in auth_options.TOKENS and isinstance(value, dict):  # mfa and otp have none
                secret = value.get("secret") or (previous.get(key, {}) or {}).get("secret") or new_secret()
                if not 30 <= len(secret) <= 255:
                    errors.setdefault(key, {})["secret"] = FieldError("validation_length_out_of_range", "The length must be between 30 and 255.")
                value["secret"] = secret
