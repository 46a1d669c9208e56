"""From a parsed filter or rule to one parameterised SQL condition, as PocketBase 0.40 means it.

PocketBase resolves each identifier to a SQL operand and LEFT JOINs the relations it walks
through onto the main query (``SELECT DISTINCT main.* … LEFT JOIN …``). pbk writes the same
joins inside one correlated ``EXISTS (SELECT 1 FROM (SELECT 1) LEFT JOIN … WHERE …)``, which
is true exactly when PocketBase's DISTINCT query would return the row, and can be used as a
plain WHERE condition: in a list query, in ``WHERE id = ? AND (…)`` for one record, or
against a CTE holding a record that is not stored yet.

Semantics ported from PocketBase (and checked against the 0.40.6 binary):

- ``=``/``!=`` treat ``''`` and NULL alike unless an operand is known non-empty; JSON
  operands compare strictly with ``IS``/``IS NOT``.
- A multi-valued operand (multi relation path, back-relation, ``:each``, ``@collection``)
  under a plain operator must hold for every item: the condition gets a
  ``NOT EXISTS (… WHERE NOT (cond))`` over all the items. The ``?`` operators only ask for one.
- Every relation walked in a non-superuser ``?filter`` applies the related collection's
  listRule to the join (a null listRule makes the filter invalid).

Every literal and request value is a bound parameter. While compiling, a parameter is a
marker ``\\x00N\\x00`` in the SQL text (a fragment may be repeated, e.g. ``'' = x OR x IS
NULL``); :func:`_finish` turns each marker into ``?`` and lists the values in order. Markers
cannot come from user text: identifiers are checked against the schema and quoted, and
literals never enter the text.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol

from ..schema import Collection, Field
from .dialect import SQLITE, SQLiteDialect
from .macros import MACROS, macro_value, utc_now
from .parser import Comparison, FilterError, Node, Operand, parse
from .values import (
    extract_path,
    go_json,
    go_parse_float,
    go_to_string,
    like_pattern,
    to_slice,
    unique_strings,
)

Mode = Literal["filter", "rule"]

#: relation chains may be at most this deep (``a.b.c.d.e.f.field``)
MAX_NESTED_RELATIONS = 6
#: sort terms and the length of one term
MAX_SORT_FIELDS = 8
MAX_SORT_FIELD_LENGTH = 255
#: the most joins one condition may hold: SQLite joins at most 64 tables in one SELECT, and
#: PocketBase's query (the collection table + its joins) fails beyond that too
MAX_JOINS = 63

FORBIDDEN_COLLECTION = "Only superusers can filter by @collection."
FORBIDDEN_REQUEST = "Only superusers can filter by @request."

MULTI_VALUER_TYPES = frozenset(("select", "relation", "file"))
MODIFIERS = frozenset(("isset", "each", "length", "lower", "changed"))
STATIC_MODIFIERS = frozenset(("", "isset", "lower"))
PLAIN_AUTH_FIELDS = frozenset(
    "@request.auth." + name
    for name in ("id", "collectionId", "collectionName", "email", "emailVisibility", "verified")
)
_W = "A-Za-z0-9_"
ALLOWED_FIELDS = tuple(
    re.compile(p, re.ASCII)
    for p in (
        rf"[{_W}]+[{_W}.:]*",
        r"@request\.context",
        r"@request\.method",
        rf"@request\.auth\.[{_W}.:]*[{_W}]",
        rf"@request\.body\.[{_W}.:]*[{_W}]",
        rf"@request\.query\.[{_W}.:]*[{_W}]",
        rf"@request\.headers\.[{_W}.:]*[{_W}]",
        rf"@collection\.[{_W}]+(:[{_W}]+)?\.[{_W}.:]*[{_W}]",
    )
)
VIA_RE = re.compile(r"([A-Za-z0-9_]+)_via_([A-Za-z0-9_]+)", re.ASCII)
_UNIQUE_INDEX_RE = re.compile(
    r"\s*CREATE\s+UNIQUE\s+INDEX\s+(?:IF\s+NOT\s+EXISTS\s+)?\S+\s+ON\s+\S+?\s*"
    r"\(\s*[`\"\[]?([A-Za-z0-9_]+)[`\"\]]?(?:\s+COLLATE\s+\w+)?(?:\s+(?:ASC|DESC))?\s*\)"
    r"(?:\s+WHERE\s+.*)?\s*;?\s*",
    re.IGNORECASE | re.DOTALL,
)
_MARKER_RE = re.compile("\x00([0-9]+)\x00")


class CollectionLookup(Protocol):
    """Finds a collection by id or by name (names case-insensitively, as PocketBase does)."""

    def __call__(self, name_or_id: str, /) -> Collection | None: ...


@dataclass(frozen=True)
class RequestInfo:
    """What ``@request.*`` can see.

    ``auth`` holds the stored fields of the authenticated record (at least ``id`` and
    ``collectionId`` or ``collectionName``; ``email``, ``emailVisibility`` and ``verified``
    are read from here, every other field through a join on the stored record), or None for
    a guest. ``body`` holds the submitted values after field modifiers (``views+``) were
    applied, plus uploaded file names. ``headers`` keys are lower snake_case
    (``x_token``). ``context`` is one of ``default``, ``expand``, ``realtime``,
    ``protectedFile``, ``batch``, ``oauth2``, ``otp``, ``password``.
    """

    auth: Mapping[str, Any] | None = None
    body: Mapping[str, Any] = field(default_factory=dict)
    query: Mapping[str, str] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)
    method: str = "GET"
    context: str = "default"
    is_superuser: bool = False

    def static(self) -> dict[str, Any]:
        return {
            "context": self.context,
            "method": self.method,
            "query": dict(self.query),
            "headers": dict(self.headers),
            "body": dict(self.body),
            "auth": dict(self.auth) if self.auth is not None else None,
        }


@dataclass(frozen=True)
class Sql:
    """A SQL fragment and its bound values, in ``?`` order.

    ``where`` is only set by :func:`compile_sort`: a condition the caller must AND into the
    WHERE clause, because PocketBase applies the listRule of a collection a non-superuser
    sorts through (rows whose related record they may not list drop out of the list).
    """

    sql: str
    params: list[Any]
    where: Sql | None = None

    def __iter__(self):  # allows ``sql, params = compile_filter(...)``
        yield self.sql
        yield self.params


TRUE_SQL = Sql("1=1", [])


def is_multiple(field_: Field) -> bool:
    """A select, relation or file field that holds a JSON array of values."""
    if field_.type not in MULTI_VALUER_TYPES:
        return False
    try:
        return int(field_.get("maxSelect") or 0) > 1
    except (TypeError, ValueError):
        return False


def has_unique_index(collection: Collection, column: str) -> bool:
    """Whether ``column`` alone has a UNIQUE index (a back-relation is then single)."""
    for index in collection.indexes:
        match = _UNIQUE_INDEX_RE.fullmatch(str(index))
        if match and match.group(1) == column:
            return True
    return False


# -- resolved operands -------------------------------------------------------------------


def _not(expr: str) -> str:
    return f"NOT ({expr})"


@dataclass
class _MultiMatch:
    """The per-row list of values of a multi-valued operand (PocketBase's multiMatchSubquery)."""

    base: str
    joins: list[str] = field(default_factory=list)
    value: str = ""


@dataclass
class _R:
    """A resolved operand (PocketBase's ResolverResult)."""

    ident: str
    #: indices of the bound values this operand *is* (for the empty checks and ``~`` wrapping)
    params: tuple[int, ...] = ()
    no_coalesce: bool = False
    mm: _MultiMatch | None = None
    after_build: Callable[[str], str] | None = None
    #: a function call: never known to be empty or non-empty
    opaque: bool = False
    #: what the value is (``dialect.KINDS``), for engines with static types
    kind: str = "str"
    #: the SQL again from the current bound values (a typed engine's strftime reads them)
    rebuild: Callable[[], str] | None = None


_NULL = "NULL"
#: the largest integer SQLite binds as an integer; a larger one is bound as a float
_MAX_INT = 2**63 - 1
_MAX_INT32 = 2**31 - 1
#: identifiers that are literals unless the collection has a field of that name
_KEYWORDS = {"null": _NULL, "true": "1", "false": "0"}
_KEYWORD_KINDS = {_NULL: "null", "1": "int", "0": "int"}


def _null() -> _R:
    return _R(_NULL, kind="null")


def _keyword(sql: str) -> _R:
    return _R(sql, kind=_KEYWORD_KINDS[sql])


def _field_kind(field_: Field) -> str:
    """The kind of a field's column (see ``dialect.KINDS``)."""
    t = field_.type
    if t == "number":
        return "num"
    if t == "bool":
        return "bool"
    if t in ("json", "geoPoint") or is_multiple(field_):
        return "jsoncol"
    return "text"


def _bind_value(state: _State, value: Any) -> _R:
    """A bound text, number or bool (as SQLite binds it: a bool is an integer)."""
    if not state.d.typed:
        marker, index = state.bind(value)
        return _R(marker, (index,))
    if isinstance(value, str):
        kind = "str"
        if "\x00" in value:
            raise FilterError("a text with NUL, which PostgreSQL cannot hold")
    elif isinstance(value, float):
        kind = "real"
    else:
        kind = "int"
    if isinstance(value, bool):
        value = int(value)
    elif kind == "int" and not -_MAX_INT - 1 <= value <= _MAX_INT:
        value, kind = float(value), "real"
    marker, index = state.bind(value)
    return _R(state.d.param(marker, kind), (index,), kind=kind)


@dataclass
class _Scope:
    """The collection an expression is about, and how strictly."""

    collection: Collection
    logical: str  # PocketBase's table alias for the base (join names derive from it)
    sql: str  # the SQL alias of the base row
    allow_hidden: bool
    apply_rules: bool  # apply joined collections' listRule (non-superuser ?filter)
    suffix: str = ""


class _State:
    """Shared by every expression compiled into one condition."""

    def __init__(
        self,
        lookup: CollectionLookup,
        request: RequestInfo | None,
        base: Collection,
        dialect: SQLiteDialect,
        now: datetime | None,
    ) -> None:
        self.lookup = lookup
        #: the values of ``{:name}`` placeholders in the expression being compiled
        self.params: Mapping[str, Any] = {}
        self.request = request
        self.static = request.static() if request is not None else None
        self.base = base
        self.d = dialect
        self.now = now
        self.values: list[Any] = []
        self.joins: dict[str, str] = {}
        self.aliases: dict[str, str] = {}
        self.conds: list[str] = []
        self.ruled: set[str] = set()
        self.wrapped: set[int] = set()
        self._counter = itertools.count(1)

    def bind(self, value: Any) -> tuple[str, int]:
        index = len(self.values)
        self.values.append(value)
        return f"\x00{index}\x00", index

    def fresh(self, prefix: str) -> str:
        return f"__{prefix}{next(self._counter)}"

    def load(self, name_or_id: str) -> Collection | None:
        base = self.base
        if name_or_id == base.name or name_or_id == base.id:
            return base
        try:
            return self.lookup(name_or_id)
        except Exception:  # noqa: BLE001 - a broken lookup is an unknown collection
            return None

    def join(self, logical: str, table_sql: str, on: Callable[[str], str] | None = None) -> str:
        """LEFT JOIN ``table_sql`` once per logical alias; return its SQL alias."""
        alias = self.aliases.get(logical)
        if alias is None:
            if len(self.joins) >= MAX_JOINS:
                raise FilterError(f"more than {MAX_JOINS} joins")
            alias = self.aliases[logical] = self.fresh("j")
            self.joins[logical] = self.d.left_join(table_sql, alias, on(alias) if on else None)
        return alias


# -- the identifier resolver (PocketBase's RecordFieldResolver runner) -------------------


def split_modifier(combined: str) -> tuple[str, str]:
    parts = combined.split(":")
    if len(parts) != 2:
        return combined, ""
    if parts[1] in MODIFIERS:
        return parts[0], parts[1]
    raise FilterError(f"unknown modifier in {combined!r}")


def _columnify(prop: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.*\-@#]+", "", prop)


def _is_go_int(text: str) -> bool:
    return text.isascii() and text.isdigit() and int(text) < 2**63


class _Runner:
    """Resolves one identifier (PocketBase's ``runner``)."""

    def __init__(self, state: _State, scope: _Scope, name: str) -> None:
        self.state = state
        self.scope = scope
        self.d = state.d
        self.name = name
        self.props = name.split(".")
        self.collection = scope.collection
        self.logical = scope.logical
        self.alias = scope.sql
        first = self.props[0]
        self.allow_hidden = scope.allow_hidden or first in ("@collection", "@request")
        self.nullify = first == "@request"
        self.with_mm = False
        self.mm = _MultiMatch(base=state.fresh("mb"))
        self.mm_alias = scope.sql

    # -- entry ---------------------------------------------------------------------------

    def run(self) -> _R:
        name = self.name
        if not any(p.fullmatch(name) for p in ALLOWED_FIELDS):
            raise FilterError(f"failed to resolve field {name!r}")
        props = self.props
        if props[0] == "@collection":
            return self._collection_field()
        if props[0] == "@request":
            if self.state.request is None:
                return _null()
            if name.startswith("@request.auth."):
                return self._auth_field()
            if name.startswith("@request.body.") and len(props) > 2:
                fname, modifier = split_modifier(props[2])
                body_field = self.scope.collection.field(fname)
                if body_field is not None:
                    if body_field.type == "relation" and len(props) > 3:
                        return self._body_relation(body_field)
                    if len(props) == 3:
                        if modifier == "each":
                            return self._body_each(body_field)
                        if modifier == "length":
                            return self._body_length(body_field)
                        if modifier == "lower":
                            return self._body_lower(body_field)
                        if modifier == "changed":
                            return self._body_changed(body_field)
            return self.static(props[1:])
        return self._active_props()

    def _fail(self, detail: str) -> _R:
        if self.nullify:
            return _null()
        raise FilterError(detail)

    # -- @request -----------------------------------------------------------------------

    def static(self, path: Sequence[str]) -> _R:
        """A value of the request itself: always a bound parameter (or NULL/TRUE/FALSE)."""
        path = list(path)
        last, modifier = split_modifier(path[-1])
        if modifier not in STATIC_MODIFIERS:
            raise FilterError(f"invalid modifier sequence {path[-1]!r}")
        path[-1] = last
        value, found = extract_path(self.state.static, path)
        if modifier == "isset":
            return _R("TRUE" if found else "FALSE", kind="int")
        if value is None:
            return _null()
        if isinstance(value, str):
            # a numeric string submitted for a number field counts as a number
            number_field = self.state.base.field(path[-1])
            if number_field is not None and number_field.type == "number":
                parsed = go_parse_float(value)
                if parsed is not None:
                    value = parsed
        elif not isinstance(value, (bool, int, float)):
            value = go_json(value)
        result = _bind_value(self.state, value)
        if modifier == "lower":
            return _R(self.d.lower(result.ident, result.kind), result.params)
        return result

    def _auth_field(self) -> _R:
        request = self.state.request
        auth = request.auth if request is not None else None
        if not auth:
            return _null()
        if self.name in PLAIN_AUTH_FIELDS:
            return self.static(self.props[1:])
        collection = None
        for key in ("collectionId", "collectionName"):
            if auth.get(key):
                collection = self.state.load(str(auth[key]))
                if collection is not None:
                    break
        if collection is None:
            return _null()
        marker = _bind_value(self.state, go_to_string(auth.get("id"))).ident
        logical = f"__auth_{collection.name}{self.scope.suffix}"
        table = self.d.table(collection.name)
        self.alias = self.state.join(
            logical, table, lambda a: f"{self.d.column(a, 'id')} = {marker}"
        )
        self.logical = logical
        mm_alias = self.state.fresh("m")
        self.mm.joins.append(
            self.d.left_join(table, mm_alias, f"{self.d.column(mm_alias, 'id')} = {marker}")
        )
        self.mm_alias = mm_alias
        self.collection = collection
        self.props = self.props[2:]
        return self._active_props()

    def _body(self) -> Mapping[str, Any]:
        request = self.state.request
        return request.body if request is not None and request.body else {}

    def _body_relation(self, rel_field: Field) -> _R:
        rel_collection = self.state.load(str(rel_field.get("collectionId", "")))
        if rel_collection is None:
            raise FilterError(f"failed to load the collection of {rel_field.name!r}")
        ids = unique_strings(self._body().get(rel_field.name))
        if not ids:
            return _null()
        markers = [_bind_value(self.state, i).ident for i in ids]
        logical = f"__data_{rel_collection.name}_{rel_field.name}{self.scope.suffix}"
        table = self.d.table(rel_collection.name)
        self.alias = self.state.join(
            logical, table, lambda a: self.d.in_list(self.d.column(a, "id"), markers)
        )
        self.logical = logical
        if is_multiple(rel_field):
            self.with_mm = True
        mm_alias = self.state.fresh("m")
        self.mm.joins.append(
            self.d.left_join(
                table, mm_alias, self.d.in_list(self.d.column(mm_alias, "id"), markers)
            )
        )
        self.mm_alias = mm_alias
        self.collection = rel_collection
        self.props = self.props[3:]
        return self._active_props()

    def _body_each(self, body_field: Field) -> _R:
        if body_field.type not in MULTI_VALUER_TYPES:
            raise FilterError(f"field {body_field.name!r} doesn't support multivalue operations")
        raw = go_json(to_slice(self._body().get(body_field.name)))
        if self.d.typed and "\\u0000" in raw:
            raise FilterError("a text with NUL, which PostgreSQL cannot hold")
        marker, _ = self.state.bind(raw)
        logical = f"__dataEach_{body_field.name}_je{self.scope.suffix}"
        alias = self.state.join(logical, self.d.json_each_value(marker))
        result = _R(self.d.each_item(alias), kind=self.d.each_kind)
        if is_multiple(body_field):
            self.with_mm = True
        if self.with_mm:
            mm_alias = self.state.fresh("m")
            self.mm.joins.append(self.d.left_join(self.d.json_each_value(marker), mm_alias))
            self.mm.value = self.d.each_item(mm_alias)
            result.mm = self.mm
        return result

    def _body_length(self, body_field: Field) -> _R:
        if body_field.type not in MULTI_VALUER_TYPES:
            raise FilterError(f"field {body_field.name!r} doesn't support multivalue operations")
        # a count, not user text: inlined like PocketBase does (it matters for the empty checks)
        return _R(str(len(to_slice(self._body().get(body_field.name)))), kind="int")

    def _body_lower(self, body_field: Field) -> _R:
        result = _bind_value(self.state, go_to_string(self._body().get(body_field.name)))
        return _R(self.d.lower(result.ident, "str"), result.params)

    def _body_changed(self, body_field: Field) -> _R:
        """Sent and different from the stored value: ``(isset = 1 AND value IS NOT field)``."""
        isset = _R("TRUE" if body_field.name in self._body() else "FALSE", kind="int")
        sent = self.static(["body", body_field.name])
        stored = _Runner(self.state, self.scope, body_field.name)
        stored.allow_hidden = True
        stored_r = stored._last_prop(self.scope.collection, body_field.name)
        set_sql = _equal_expr(self.state, True, isset, _R("1", kind="int"))
        changed_sql = _equal_expr(self.state, False, sent, stored_r)
        return _R(f"({set_sql} AND {changed_sql})", no_coalesce=True, kind="cond")

    # -- @collection --------------------------------------------------------------------

    def _collection_field(self) -> _R:
        props = self.props
        if len(props) < 3:
            raise FilterError(f"invalid @collection field path in {self.name!r}")
        name, _, alias_name = props[1].partition(":")
        collection = self.state.load(name)
        if collection is None:
            raise FilterError(f"failed to load collection {props[1]!r}")
        if alias_name:
            logical = f"__collection_alias_{alias_name}{self.scope.suffix}"
        else:
            logical = f"__collection_{collection.name}{self.scope.suffix}"
        table = self.d.table(collection.name)
        self.with_mm = True
        self.alias = self.state.join(logical, table)
        self.logical = logical
        mm_alias = self.state.fresh("m")
        self.mm.joins.append(self.d.left_join(table, mm_alias))
        self.mm_alias = mm_alias
        self.collection = collection
        self.props = props[2:]
        return self._active_props()

    # -- fields and relations -------------------------------------------------------------

    def _active_props(self) -> _R:
        props = self.props
        total = len(props)
        d = self.d
        for i, prop in enumerate(props):
            collection = self.collection
            if i == total - 1:
                return self._last_prop(collection, prop)
            field_ = collection.field(prop)
            if field_ is not None and field_.hidden and not self.allow_hidden:
                raise FilterError(f"non-filterable field {prop!r}")
            if field_ is not None and field_.type in ("json", "geoPoint"):
                return self._json_path(field_, props[i + 1 :])
            if i >= MAX_NESTED_RELATIONS:
                raise FilterError(f"max nested relations reached for field {prop!r}")
            if field_ is None:
                failed = self._back_relation(collection, prop)
                if failed is not None:
                    return failed
                continue
            if field_.type != "relation":
                raise FilterError(f"field {prop!r} is not a valid relation")
            rel_collection = self.state.load(str(field_.get("collectionId", "")))
            if rel_collection is None:
                raise FilterError(f"failed to load field {prop!r} collection")
            multiple = is_multiple(field_)
            if not multiple and i == total - 2 and props[i + 1] == "id":
                # "author.id" is "author": no join
                return self._last_prop(collection, field_.name)
            column = d.column(self.alias, field_.name)
            table = d.table(rel_collection.name)
            new_logical = f"{self.logical}_{field_.name}"
            if not multiple:
                new_alias = self.state.join(
                    new_logical, table, lambda a, col=column: f"{d.column(a, 'id')} = {col}"
                )
            else:
                je = self.state.join(f"__je_{self.logical}_{field_.name}", d.json_each(column))
                new_alias = self.state.join(
                    new_logical, table, lambda a, je=je: f"{d.column(a, 'id')} = {je}.value"
                )
            self._apply_list_rule(rel_collection, new_logical, new_alias)
            if multiple:
                self.with_mm = True
            mm_column = d.column(self.mm_alias, field_.name)
            mm_alias = self.state.fresh("m")
            if not multiple:
                self.mm.joins.append(
                    d.left_join(table, mm_alias, f"{d.column(mm_alias, 'id')} = {mm_column}")
                )
            else:
                mm_je = self.state.fresh("m")
                self.mm.joins.append(d.left_join(d.json_each(mm_column), mm_je))
                self.mm.joins.append(
                    d.left_join(table, mm_alias, f"{d.column(mm_alias, 'id')} = {mm_je}.value")
                )
            self.collection = rel_collection
            self.logical = new_logical
            self.alias = new_alias
            self.mm_alias = mm_alias
        raise FilterError(f"failed to resolve field {self.name!r}")

    def _back_relation(self, collection: Collection, prop: str) -> _R | None:
        d = self.d
        match = VIA_RE.fullmatch(prop)
        if not match:
            return self._fail(f"failed to resolve field {prop!r}")
        back_collection = self.state.load(match.group(1))
        if back_collection is None:
            return self._fail(f"failed to load back relation field {prop!r} collection")
        back_field = back_collection.field(match.group(2))
        if back_field is None:
            return self._fail(f"missing back relation field {match.group(2)!r}")
        if back_field.type != "relation":
            return self._fail(f"invalid back relation field {match.group(2)!r}")
        if back_field.hidden and not self.allow_hidden:
            raise FilterError(f"non-filterable back relation field {back_field.name!r}")
        if str(back_field.get("collectionId", "")) != collection.id:
            return self._fail(
                f"invalid collection reference of back relation field {back_field.name!r}"
            )
        field_multiple = is_multiple(back_field)
        back_multiple = field_multiple or not has_unique_index(back_collection, back_field.name)
        table = d.table(back_collection.name)
        new_logical = f"{self.logical}_{prop}"
        base_id = d.column(self.alias, "id")
        if not field_multiple:
            new_alias = self.state.join(
                new_logical, table, lambda a: f"{d.column(a, back_field.name)} = {base_id}"
            )
        else:

            def on(a: str) -> str:
                je = self.state.fresh("je")
                return f"{base_id} IN (SELECT {je}.value FROM {d.json_each(d.column(a, back_field.name))} AS {je})"

            new_alias = self.state.join(new_logical, table, on)
        self._apply_list_rule(back_collection, new_logical, new_alias)
        if back_multiple:
            self.with_mm = True
        mm_alias = self.state.fresh("m")
        mm_base_id = d.column(self.mm_alias, "id")
        if not field_multiple:
            self.mm.joins.append(
                d.left_join(
                    table, mm_alias, f"{d.column(mm_alias, back_field.name)} = {mm_base_id}"
                )
            )
        else:
            je = self.state.fresh("je")
            self.mm.joins.append(
                d.left_join(
                    table,
                    mm_alias,
                    f"{mm_base_id} IN (SELECT {je}.value FROM "
                    f"{d.json_each(d.column(mm_alias, back_field.name))} AS {je})",
                )
            )
        self.collection = back_collection
        self.logical = new_logical
        self.alias = new_alias
        self.mm_alias = mm_alias
        return None

    def _json_path(self, field_: Field, rest: Sequence[str]) -> _R:
        parts: list[str] = []
        steps: list[tuple[Any, bool]] = []
        for j, p in enumerate(rest):
            if _is_go_int(p):
                parts.append(f"[{_columnify(p)}]")
                steps.append((int(p), True))
            else:
                key = _columnify(p)
                if not key:
                    # PocketBase sends "$..k" to SQLite, which fails: a 400 either way
                    raise FilterError(f"invalid JSON path in {self.name!r}")
                if j > 0:
                    parts.append(".")
                parts.append(key)
                steps.append((key, False))
        path = "".join(parts)
        if path and not path.startswith("["):
            path = "." + path
        result = _R(
            self._json_extract(self.alias, field_.name, path, steps), no_coalesce=True, kind="json"
        )
        if self.with_mm:
            self.mm.value = self._json_extract(self.mm_alias, field_.name, path, steps)
            result.mm = self.mm
        return result

    def _json_extract(
        self, alias: str, column: str, path: str, steps: Sequence[tuple[Any, bool]] = ()
    ) -> str:
        if self.d.typed:
            if any(index and key > _MAX_INT32 for key, index in steps):
                return "CAST(NULL AS json)"  # no such item
            markers = [(self.state.bind(key)[0], index) for key, index in steps]
            return self.d.json_path(self.d.column(alias, column), markers)
        direct, _ = self.state.bind("$" + path)
        wrapped, _ = self.state.bind("$.pb" + path)
        return self.d.json_extract(self.d.column(alias, column), direct, wrapped)

    def _last_prop(self, collection: Collection, prop: str) -> _R:
        d = self.d
        name, modifier = split_modifier(prop)
        field_ = collection.field(name)
        if field_ is None:
            return self._fail(f"unknown field {name!r}")
        if field_.hidden and not self.allow_hidden:
            raise FilterError(f"non-filterable field {name!r}")
        multi_valuer = field_.type in MULTI_VALUER_TYPES
        column = d.column(self.alias, field_.name)
        mm_column = d.column(self.mm_alias, field_.name)

        if modifier == "length" and multi_valuer:
            multiple = is_multiple(field_)
            result = _R(d.json_array_length(column, multiple), kind="int")
            if self.with_mm:
                self.mm.value = d.json_array_length(mm_column, multiple)
                result.mm = self.mm
            return result

        if modifier == "each" and multi_valuer:
            multiple = is_multiple(field_)
            je = self.state.join(f"__je_{self.logical}_{field_.name}", d.json_each(column, multiple))
            result = _R(d.each_item(je), kind=d.each_kind)
            if multiple:
                self.with_mm = True
            if self.with_mm:
                mm_je = self.state.fresh("m")
                self.mm.joins.append(d.left_join(d.json_each(mm_column, multiple), mm_je))
                self.mm.value = d.each_item(mm_je)
                result.mm = self.mm
            return result

        result = _R(column, kind=_field_kind(field_) if d.typed else "text")
        if self.with_mm:
            self.mm.value = mm_column
            result.mm = self.mm

        if field_.name == "email" and not self.allow_hidden and collection.is_auth:
            visibility = d.column(self.alias, "emailVisibility")
            result.after_build = lambda expr: f"(({expr}) AND ({visibility} = TRUE))"

        if field_.type == "json":
            result.no_coalesce = True
            result.kind = "json"
            result.ident = self._json_extract(self.alias, field_.name, "")
            if self.with_mm:
                self.mm.value = self._json_extract(self.mm_alias, field_.name, "")

        if modifier == "lower":
            result.ident = d.lower(result.ident, result.kind)
            if self.with_mm:
                self.mm.value = d.lower(self.mm.value, result.kind)
            result.kind = "str"
        return result

    # -- joined collections' listRule -------------------------------------------------------

    def _apply_list_rule(self, collection: Collection, logical: str, alias: str) -> None:
        if not self.scope.apply_rules or logical in self.state.ruled:
            return
        self.state.ruled.add(logical)
        rule = collection.rules.get("listRule")
        if rule is None:
            raise FilterError(
                f"the {collection.name!r} collection can only be listed by superusers"
            )
        if rule == "":
            return
        n = next(self.state._counter)
        sub = _Scope(
            collection=collection,
            logical=f"{logical}#{n}",
            sql=alias,
            allow_hidden=True,
            apply_rules=False,
            suffix=f"#{n}",
        )
        # a rule has no placeholders: the caller's ``params`` are the expression's only
        params, self.state.params = self.state.params, {}
        try:
            condition = _compile_node(self.state, parse(rule), sub)
        finally:
            self.state.params = params
        id_column = self.d.column(alias, "id")
        self.state.conds.append(f"(({id_column} = '' OR {id_column} IS NULL) OR {condition})")


# -- operands ---------------------------------------------------------------------------


def _resolve_field(state: _State, scope: _Scope, name: str) -> _R:
    return _Runner(state, scope, name).run()


def _resolve(state: _State, scope: _Scope, operand: Operand) -> _R:
    kind = operand.kind
    if kind == "identifier":
        name = operand.value
        if name in MACROS:
            return _bind_value(state, macro_value(name, state.now))
        keyword = _KEYWORDS.get(name.lower())
        if keyword is not None and scope.collection.field(name) is None:
            return _keyword(keyword)  # what resolving it would fall back to, without the detour
        try:
            result: _R | None = _resolve_field(state, scope, name)
            error: FilterError | None = None
        except FilterError as exc:
            result, error = None, exc
        if result is None or not result.ident:
            fallback = _KEYWORDS.get(name.lower())
            if fallback is not None:
                return _keyword(fallback)
            raise error or FilterError(f"invalid operand {name!r}")
        return result
    if kind == "text" or kind == "number":
        value = operand.value if kind == "text" else float(operand.value)
        if state.d.typed:
            return _bind_value(state, value)
        marker, index = state.bind(value)  # SQLite's path, kept short
        return _R(marker, (index,))
    if kind == "placeholder":
        return _placeholder(state, operand.value)
    if kind == "function":
        func = FUNCTIONS.get(operand.value)
        if func is None:
            raise FilterError(f"unknown function {operand.value!r}")
        return func(state, scope, operand.args)
    raise FilterError(f"unresolvable operand {operand.value!r}")  # pragma: no cover




def _placeholder(state: _State, name: str) -> _R:
    """``{:name}``: ``params[name]`` as a bound value. ``None`` is ``null``, ``True``/``False``
    are ``true``/``false``, numbers and texts are themselves, anything else is its JSON text."""
    if name not in state.params:
        raise FilterError(f"no value for the placeholder {{:{name}}}")
    value = state.params[name]
    if value is None:
        return _null()
    if isinstance(value, bool):
        return _keyword(_KEYWORDS["true" if value else "false"])
    if isinstance(value, int) and not -_MAX_INT - 1 <= value <= _MAX_INT:
        value = float(value)
    elif not isinstance(value, (int, float, str)):
        value = go_json(value)
    return _bind_value(state, value)


#: operand kinds a function accepts where it wants a quoted text
_TEXTS = ("text", "placeholder")


def _strftime(state: _State, scope: _Scope, args: tuple[Operand, ...]) -> _R:
    if not 1 <= len(args) <= 10:
        raise FilterError(f"[strftime] expected 1 to 10 arguments, got {len(args)}")
    if args[0].kind not in _TEXTS:
        raise FilterError("[strftime] the format must be a quoted text")
    if len(args) > 1 and args[1].kind not in ("identifier", "number", *_TEXTS):
        raise FilterError("[strftime] the time value must be an identifier, number or text")
    if any(a.kind not in _TEXTS for a in args[2:]):
        raise FilterError("[strftime] the modifiers must be quoted texts")
    resolved = [_resolve(state, scope, a) for a in args]
    idents = [r.ident for r in resolved]
    if state.d.typed:
        strftime = _typed_strftime(state, resolved)
    else:
        strftime = state.d.strftime
    result = _R(
        strftime(idents),
        params=tuple(i for r in resolved for i in r.params),
        opaque=True,
    )
    if state.d.typed:
        result.rebuild = lambda: strftime(idents)
    if len(resolved) > 1:
        time_arg = resolved[1]
        if time_arg.mm is not None:
            mm_idents = list(idents)
            mm_idents[1] = time_arg.mm.value
            result.mm = _MultiMatch(time_arg.mm.base, time_arg.mm.joins, strftime(mm_idents))
        result.after_build = time_arg.after_build
    return result


def _binder(state: _State) -> Callable[[Any], str]:
    """``bind(value) -> marker`` for a dialect that binds values of its own."""

    def bind(value: Any) -> str:
        return state.bind(value)[0]

    return bind


def _typed_strftime(state: _State, resolved: list[_R]) -> Callable[[list[str]], str]:
    """strftime for an engine that needs the format and modifiers while compiling (they are
    quoted texts or placeholders, so their values are known)."""
    kind = resolved[1].kind if len(resolved) > 1 else None

    def strftime(idents: list[str]) -> str:
        texts: list[str | None] = []
        for r in resolved[:1] + resolved[2:]:
            if r.kind == "null":
                texts.append(None)
            elif r.params:
                texts.append(go_to_string(state.values[r.params[0]]))
            else:
                texts.append(r.ident)
        if any(t is not None and "\x00" in t for t in texts):
            raise FilterError("a text with NUL, which PostgreSQL cannot hold")
        if any(t is None for t in texts):
            return "CAST(NULL AS text)"
        time = (idents[1], kind) if kind is not None else None
        return state.d.strftime_typed(texts[0], time, texts[1:], _binder(state))

    return strftime


def _geo_distance(state: _State, scope: _Scope, args: tuple[Operand, ...]) -> _R:
    if len(args) != 4:
        raise FilterError(f"[geoDistance] expected 4 arguments, got {len(args)}")
    if any(a.kind not in ("identifier", "number", "placeholder") for a in args):
        raise FilterError("[geoDistance] the arguments must be identifiers or numbers")
    resolved = [_resolve(state, scope, a) for a in args]
    after = [r.after_build for r in resolved if r.after_build is not None]
    if state.d.typed:
        distance = state.d.geo_distance_typed([(r.ident, r.kind) for r in resolved])
    else:
        lon_a, lat_a, lon_b, lat_b = (r.ident for r in resolved)
        distance = state.d.geo_distance(lon_a, lat_a, lon_b, lat_b)

    def after_build(expr: str) -> str:
        for func in after:
            expr = func(expr)
        return expr

    return _R(
        distance,
        params=tuple(i for r in resolved for i in r.params),
        no_coalesce=True,
        opaque=True,
        after_build=after_build if after else None,
        kind="real",
    )


FUNCTIONS: dict[str, Callable[[_State, _Scope, tuple[Operand, ...]], _R]] = {
    "strftime": _strftime,
    "geoDistance": _geo_distance,
}


# -- comparisons ---------------------------------------------------------------------------


def _is_empty_ident(r: _R) -> bool:
    return r.ident.lower() in ("", "null", "''", '""', "``")


def _has_empty_param(state: _State, r: _R) -> bool:
    return any(state.values[i] is None or state.values[i] == "" for i in r.params)


def _is_empty(state: _State, r: _R) -> bool:
    if r.opaque:
        return False
    return _is_empty_ident(r) or (len(r.params) == 1 and _has_empty_param(state, r))


def _known_non_empty(state: _State, r: _R) -> bool:
    if r.ident.lower() in ("1", "0", "false", "true"):
        return True
    if r.opaque:
        return False
    return bool(r.params) and not _has_empty_param(state, r) and not _is_empty_ident(r)


def _equal_expr(state: _State, equal: bool, left: _R, right: _R) -> str:
    """``=`` / ``!=`` with PocketBase's empty-string/NULL normalisation."""
    if equal:
        eq, null_eq, concat, null_expr = "=", "IS", "OR", "IS NULL"
    else:
        # IS NOT, never !=: NULL != 'x' is NULL, not true
        eq, null_eq, concat, null_expr = "IS NOT", "IS NOT", "AND", "IS NOT NULL"
    if state.d.typed:
        return _typed_equal_expr(state, equal, left, right)
    if left.no_coalesce or right.no_coalesce:
        return f"{left.ident} {null_eq} {right.ident}"
    left_empty = _is_empty(state, left)
    right_empty = _is_empty(state, right)
    if left_empty and right_empty:
        return f"'' {eq} ''"
    if _known_non_empty(state, left) or _known_non_empty(state, right):
        lhs = "''" if left_empty else left.ident
        rhs = "''" if right_empty else right.ident
        return f"{lhs} {eq} {rhs}"
    if left_empty:
        return f"('' {eq} {right.ident} {concat} {right.ident} {null_expr})"
    if right_empty:
        return f"({left.ident} {eq} '' {concat} {left.ident} {null_expr})"
    return f"{state.d.coalesce_empty(left.ident)} {eq} {state.d.coalesce_empty(right.ident)}"


#: ``''`` typed, so PostgreSQL never casts the literal to a number while parsing
_EMPTY = _R("CAST('' AS text)", kind="str")


def _typed_equal_expr(state: _State, equal: bool, left: _R, right: _R) -> str:
    """``_equal_expr`` for an engine with static types: the same forms, each comparison
    written by the dialect from the operands' kinds."""
    d = state.d
    eq = "=" if equal else "IS NOT"
    if left.no_coalesce or right.no_coalesce:
        return d.compare_typed(left.ident, left.kind, "IS" if equal else "IS NOT", right.ident, right.kind)
    left_empty = _is_empty(state, left)
    right_empty = _is_empty(state, right)
    if left_empty and right_empty:
        return "TRUE" if equal else "FALSE"
    if _known_non_empty(state, left) or _known_non_empty(state, right):
        lhs = _EMPTY if left_empty else left
        rhs = _EMPTY if right_empty else right
        return d.compare_typed(lhs.ident, lhs.kind, eq, rhs.ident, rhs.kind)
    concat, null_expr = ("OR", "IS NULL") if equal else ("AND", "IS NOT NULL")
    if left_empty:
        return f"({d.compare_typed(_EMPTY.ident, 'str', eq, right.ident, right.kind)} {concat} {right.ident} {null_expr})"
    if right_empty:
        return f"({d.compare_typed(left.ident, left.kind, eq, _EMPTY.ident, 'str')} {concat} {left.ident} {null_expr})"
    return d.coalesce_compare(left.ident, left.kind, eq, right.ident, right.kind)


def _like_operand(state: _State, r: _R, before: list[Any]) -> _R:
    """A ``~`` operand after ``_wrap_like`` turned its bound values (``before``) into text
    patterns, for a typed engine: a bound number is now bound as a text, a function of a
    number that became a text is NULL (SQLite's math and date functions answer NULL for such
    a text), a strftime is written again from its new format."""
    d = state.d
    changed = [i for i, old in zip(r.params, before) if state.values[i] != old]
    if not changed:
        return r
    if len(r.params) == 1 and r.ident == d.param(f"\x00{r.params[0]}\x00", r.kind):
        return _R(d.param(f"\x00{r.params[0]}\x00", "str"), r.params, kind="str")
    if any(not isinstance(old, str) for i, old in zip(r.params, before) if i in changed):
        return _null()  # a number argument became a text: no number, no date
    if r.rebuild is not None:
        return _R(r.rebuild(), r.params, opaque=True, kind=r.kind)
    return r  # texts stay texts: the SQL binds them as they are now


def _wrap_like(state: _State, r: _R) -> None:
    for index in r.params:
        if index not in state.wrapped:
            state.wrapped.add(index)
            state.values[index] = like_pattern(state.values[index])


def _build(state: _State, left: _R, op: str, right: _R) -> str:
    any_match = op.startswith("?")
    base_op = op[1:] if any_match else op
    d = state.d
    if base_op == "=":
        expr = _equal_expr(state, True, left, right)
    elif base_op == "!=":
        expr = _equal_expr(state, False, left, right)
    elif base_op in ("~", "!~"):
        negate = base_op == "!~"
        contains = not right.params
        if not contains:
            before = [state.values[i] for i in right.params]
            _wrap_like(state, right)
            if d.typed:
                right = _like_operand(state, right, before)
        if d.typed:
            expr = d.like_typed(
                left.ident, left.kind, right.ident, right.kind, negate=negate, contains=contains
            )
        else:
            expr = d.like(left.ident, right.ident, negate=negate, contains=contains)
    elif base_op in ("<", "<=", ">", ">="):
        if d.typed:
            expr = d.compare_typed(left.ident, left.kind, base_op, right.ident, right.kind)
        else:
            expr = d.compare(left.ident, base_op, right.ident)
    else:  # pragma: no cover - the lexer only lets the operators above through
        raise FilterError(f"unknown expression operator {op!r}")

    if not any_match:
        if left.mm is not None and right.mm is not None:
            expr = f"(({expr}) AND ({_many_vs_many(state, left, op, right)}))"
        elif left.mm is not None:
            expr = f"(({expr}) AND ({_many_vs_one(state, left, op, right, inverse=False)}))"
        elif right.mm is not None:
            expr = f"(({expr}) AND ({_many_vs_one(state, right, op, left, inverse=True)}))"

    if left.after_build is not None:
        expr = left.after_build(expr)
    if right.after_build is not None:
        expr = right.after_build(expr)
    return expr


def _mm_sql(state: _State, mm: _MultiMatch) -> str:
    return state.d.multi_match_subquery(mm.value, mm.joins, mm.base)


def _many_vs_one(state: _State, many: _R, op: str, other: _R, *, inverse: bool) -> str:
    """No item of ``many`` may fail the comparison with ``other``."""
    assert many.mm is not None
    alias = state.fresh("sm")
    item = _R(f"{alias}.mmv", no_coalesce=many.no_coalesce, after_build=_not, kind=many.kind)
    plain = _R(other.ident, other.params, opaque=other.opaque, kind=other.kind)
    where = _build(state, plain, op, item) if inverse else _build(state, item, op, plain)
    return state.d.not_exists_many_vs_one(_mm_sql(state, many.mm), alias, where)


def _many_vs_many(state: _State, left: _R, op: str, right: _R) -> str:
    """No pair of items may fail the comparison."""
    assert left.mm is not None and right.mm is not None
    l_alias, r_alias = state.fresh("ml"), state.fresh("mr")
    where = _build(
        state,
        _R(f"{l_alias}.mmv", no_coalesce=left.no_coalesce, kind=left.kind),
        op,
        _R(f"{r_alias}.mmv", no_coalesce=right.no_coalesce, after_build=_not, kind=right.kind),
    )
    return state.d.not_exists_many_vs_many(
        _mm_sql(state, left.mm), l_alias, _mm_sql(state, right.mm), r_alias, where
    )


def _compile_node(state: _State, node: Node, scope: _Scope) -> str:
    if isinstance(node, Comparison):
        left = _resolve(state, scope, node.left)
        right = _resolve(state, scope, node.right)
        return _build(state, left, node.op, right)
    parts: list[str] = []
    for i, (join, child) in enumerate(node.items):
        if i:
            parts.append("OR" if join == "||" else "AND")
        parts.append(_compile_node(state, child, scope))
    return "(" + " ".join(parts) + ")"


# -- public entry points -------------------------------------------------------------------


def _finish(state: _State, sql: str) -> Sql:
    params: list[Any] = []

    def replace(match: re.Match[str]) -> str:
        params.append(state.values[int(match.group(1))])
        return "?"

    return Sql(_MARKER_RE.sub(replace, sql), params)


def check_forbidden(text: str, request: RequestInfo | None) -> None:
    """PocketBase's guard on ``?filter`` and ``?sort``: only superusers may use
    ``@collection.`` or ``@request.`` (anywhere, even inside a quoted text)."""
    if request is not None and request.is_superuser:
        return
    if "@collection." in text:
        raise FilterError("@collection in a non-superuser filter", 403, FORBIDDEN_COLLECTION)
    if "@request." in text:
        raise FilterError("@request in a non-superuser filter", 403, FORBIDDEN_REQUEST)


def compile_filter(
    expression: str | None,
    collection: Collection,
    lookup: CollectionLookup,
    request: RequestInfo | None,
    *,
    mode: Mode = "filter",
    table_alias: str = "main",
    and_rule: str | None = None,
    dialect: SQLiteDialect = SQLITE,
    now: datetime | None = None,
    params: Mapping[str, Any] | None = None,
) -> Sql:
    """Compile a filter or rule into a WHERE condition on ``collection AS table_alias``.

    ``mode="filter"`` is a client's ``?filter``: for non-superusers ``@collection.`` and
    ``@request.`` are forbidden (403), hidden fields are unknown (400), ``email`` of an auth
    collection only matches when ``emailVisibility`` is true, and every relation walked
    applies its collection's listRule. ``mode="rule"`` is an API rule: trusted, hidden
    fields allowed, unknown ``@request.*`` paths are NULL.

    ``params`` are the values of the expression's ``{:name}`` placeholders, each bound as
    an SQL parameter (see ``_placeholder``); a placeholder without a value is a 400. Only
    ``expression`` may use them, not ``and_rule``.

    ``and_rule`` is a rule ANDed with the expression in the same join scope, as PocketBase
    compiles a collection's listRule and the ``?filter`` with one resolver (so
    ``labels.name ?= "a"`` in both means the same label).

    An empty expression is no condition (``1=1``). An invalid one raises
    :class:`FilterError` (400); it never fails later in SQLite. ``request=None`` is an
    internal call: every ``@request.*`` is NULL.
    """
    expression = expression or ""
    if mode == "filter" and expression:
        check_forbidden(expression, request)
    if not expression and not and_rule:
        return TRUE_SQL
    superuser = request is not None and request.is_superuser
    state = _State(lookup, request, collection, dialect, now or utc_now())
    base_alias = dialect.quote(table_alias) if not _is_plain_alias(table_alias) else table_alias
    parts: list[str] = []
    if and_rule:
        rule_scope = _Scope(
            collection, collection.name, base_alias, allow_hidden=True, apply_rules=False
        )
        parts.append(_compile_node(state, parse(and_rule), rule_scope))
    if expression:
        strict = mode == "filter" and not superuser
        scope = _Scope(
            collection,
            collection.name,
            base_alias,
            allow_hidden=not strict,
            apply_rules=strict,
        )
        state.params = params or {}
        parts.append(_compile_node(state, parse(expression), scope))
        state.params = {}
    parts.extend(state.conds)
    where = parts[0] if len(parts) == 1 else "(" + " AND ".join(parts) + ")"
    if state.joins:
        where = dialect.exists(list(state.joins.values()), where, base_alias=state.fresh("b"))
    return _finish(state, where)


def compile_rule(
    expression: str,
    collection: Collection,
    lookup: CollectionLookup,
    request: RequestInfo | None,
    *,
    table_alias: str = "main",
    dialect: SQLiteDialect = SQLITE,
    now: datetime | None = None,
) -> Sql:
    """``compile_filter(..., mode="rule")``. A ``None`` rule (superusers only) is the
    caller's business; ``""`` (anyone) compiles to ``1=1``."""
    return compile_filter(
        expression,
        collection,
        lookup,
        request,
        mode="rule",
        table_alias=table_alias,
        dialect=dialect,
        now=now,
    )


def _is_plain_alias(alias: str) -> bool:
    return bool(re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", alias))


def compile_sort(
    sort: str | None,
    collection: Collection,
    lookup: CollectionLookup,
    request: RequestInfo | None,
    *,
    table_alias: str = "main",
    dialect: SQLiteDialect = SQLITE,
) -> Sql:
    """Compile ``?sort`` into an ORDER BY list (without the keywords); ``""`` for none.

    Terms are comma separated, ``-`` for descending, ``+`` or nothing for ascending:
    fields, relation paths (``author.name``), JSON paths (``meta.n``), modifiers
    (``title:lower``, ``tags:length``), ``@random`` and ``@rowid``. At most 8 terms of 255
    characters; anything unknown is a 400. A relation path sorts by a correlated subquery
    (a multi-valued path by its smallest value ascending, largest descending).

    For a non-superuser, sorting through a relation applies the related collection's
    listRule as PocketBase does: a null rule is a 400, another rule comes back in
    ``result.where`` (AND it into the query's WHERE).
    """
    sort = sort or ""
    if not sort:
        return Sql("", [])
    check_forbidden(sort, request)
    terms = sort.split(",")
    if len(terms) > MAX_SORT_FIELDS:
        raise FilterError(f"more than {MAX_SORT_FIELDS} sort fields")
    superuser = request is not None and request.is_superuser
    base_alias = dialect.quote(table_alias) if not _is_plain_alias(table_alias) else table_alias
    state = _State(lookup, request, collection, dialect, utc_now())
    out: list[str] = []
    where: list[str] = []
    for raw in terms:
        term = raw.strip()
        if term.startswith("-"):
            name, direction = term[1:], "DESC"
        else:
            name, direction = (term.removeprefix("+")), "ASC"
        if len(name.encode("utf-8", "surrogatepass")) > MAX_SORT_FIELD_LENGTH:
            raise FilterError(f"the sort field is longer than {MAX_SORT_FIELD_LENGTH} characters")
        if name == "@random":
            out.append(dialect.random())
            continue
        if name == "@rowid":
            out.append(f"{dialect.rowid(base_alias)} {direction}")
            continue
        keys = _sort_term(state, collection, base_alias, name, direction, superuser, where)
        out.append(dialect.order(keys, direction))
    result = _finish(state, ", ".join(out))
    if where:
        result = Sql(result.sql, result.params, _finish(state, " AND ".join(where)))
    return result


def _sort_term(
    state: _State,
    collection: Collection,
    base_alias: str,
    name: str,
    direction: str,
    superuser: bool,
    where: list[str],
) -> list[str]:
    """What to ORDER BY for one term (one expression on SQLite)."""
    state.joins = {}
    state.aliases = {}
    state.conds = []
    state.ruled = set()
    scope = _Scope(
        collection, collection.name, base_alias, allow_hidden=superuser, apply_rules=not superuser
    )
    try:
        result = _resolve_field(state, scope, name)
    except FilterError as exc:
        raise FilterError(f"invalid sort field {name!r}: {exc.detail}") from None
    if result.params or not result.ident or result.ident.upper() == _NULL:
        raise FilterError(f"invalid sort field {name!r}")
    keys = state.d.sort_keys(result.ident, result.kind)
    if not state.joins:
        return keys
    joins = list(state.joins.values())
    if state.conds:
        where.append(state.d.exists(joins, " AND ".join(state.conds), base_alias=state.fresh("b")))
    # one related row, or several (multi relation, back-relation, @collection): the extreme
    aggregate = None if result.mm is None else ("MIN" if direction == "ASC" else "MAX")
    return [state.d.scalar_subquery(key, joins, state.fresh("b"), aggregate) for key in keys]
