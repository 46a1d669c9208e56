"""Records: reads under API rules with filters, sort and expand; writes with modifiers.

Every write runs in one transaction: the stored values are read, modifiers (``n+``,
``tags-`` ...) are applied to them, the result is validated, the record events run and the
SQL executes, and the rules that need the new record (create) are checked before commit.
Because the transaction holds the single writer from the read to the commit, concurrent
``score+`` updates are serialised and none is lost. ``*_success`` events fire after commit.
"""

from __future__ import annotations

import asyncio
import builtins
import copy
import dataclasses
import functools
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import apsw
from pbk_sdk import events as ev
from pbk_sdk.auth import RequestAuth, password_hasher
from pbk_sdk.body import Body
from pbk_sdk.errors import ApiError, FieldError
from pbk_sdk.events import RecordEvent
from pbk_sdk.interfaces import FILE_STORAGE, App

from .assigned import Assigned
from .collections import Registry, now
from .ddl import quote
from .filter import RequestInfo, Sql, compile_filter, compile_sort, has_unique_index
from .filter.cached import RuleCache
from .gocompat.cast import parse_go_bool
from .schema import Collection, Field

PER_PAGE = 30
PER_PAGE_MAX = 1000
EXPAND_DEPTH = 6
BACK_RELATIONS_PER_RECORD = 1000
MAX_OFFSET = 2**62
IN_CHUNK = 500
SUPERUSERS_ONLY = "Only superusers can perform this action."
REQUIRED_REFERENCE = (
    "Failed to delete record. Make sure that the record is not part of a required relation reference."
)

#: An SQL condition and its bound values.
_SQL = tuple[str, builtins.list[Any]]


@dataclass
class Context:
    """Who asks, and the request values rules may read."""

    auth: RequestAuth | None
    info: RequestInfo
    expand: Sequence[str] = ()

    @property
    def superuser(self) -> bool:
        return self.auth is not None and self.auth.is_superuser


@dataclass
class _Input:
    """A request body split into plain values and modifiers, known fields only."""

    values: dict[str, Any] = field(default_factory=dict)
    modifiers: list[tuple[str, str, Any]] = field(default_factory=list)
    extras: dict[str, Any] = field(default_factory=dict)


def _rows(cursor: apsw.Cursor) -> list[dict[str, Any]]:
    try:
        names = [d[0] for d in cursor.getdescription()]
    except apsw.ExecutionCompleteError:
        return []
    return [dict(zip(names, row, strict=True)) for row in cursor]


def parse_int(raw: str | None, default: int) -> int:
    """A Go ``int`` query parameter: 400 unless it parses and fits in 64 bits."""
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise ApiError(400) from exc
    if not -(2**63) <= value < 2**63:
        raise ApiError(400)
    return value


@dataclass(frozen=True)
class Page:
    """``page``, ``perPage`` and ``skipTotal`` as PocketBase reads them."""

    number: int
    size: int
    skip_total: bool

    @classmethod
    def parse(cls, query: Mapping[str, str]) -> Page:
        size = parse_int(query.get("perPage"), PER_PAGE)
        return cls(
            number=max(parse_int(query.get("page"), 1), 1),
            size=PER_PAGE if size <= 0 else min(size, PER_PAGE_MAX),
            skip_total=_query_bool(query.get("skipTotal")),
        )

    @property
    def offset(self) -> int:
        return min((self.number - 1) * self.size, MAX_OFFSET)  # past any table: an empty page

    def envelope(self, items: list[Any], total: int) -> dict[str, Any]:
        return {
            "items": items,
            "page": self.number,
            "perPage": self.size,
            "totalItems": -1 if self.skip_total else total,
            "totalPages": -1 if self.skip_total else (total + self.size - 1) // self.size,
        }


@dataclass(frozen=True)
class _ListQuery:
    """``FROM`` text (``<table> AS main WHERE ...``) and ``ORDER BY`` terms of a list, with
    their bound values."""

    source: str
    params: list[Any]
    order: str
    order_params: list[Any]

    def count_sql(self) -> tuple[str, list[Any]]:
        return f"SELECT COUNT(*) FROM {self.source}", self.params

    def select_sql(self, limit: int, offset: int, *, tie_break: str = "") -> tuple[str, tuple[Any, ...]]:
        """The page ``LIMIT limit OFFSET offset`` (``-1``: no limit), ordered by the sort and
        then ``tie_break``."""
        terms = [term for term in (self.order, tie_break) if term]
        order_by = f" ORDER BY {', '.join(terms)}" if terms else ""
        sql = f"SELECT main.* FROM {self.source}{order_by} LIMIT ? OFFSET ?"
        return sql, (*self.params, *self.order_params, limit, offset)


def _query_bool(raw: str | None) -> bool:
    """A Go ``bool`` query parameter: false when absent, 400 unless ``strconv.ParseBool`` reads it."""
    if raw is None or raw == "":
        return False
    value = parse_go_bool(raw)
    if value is None:
        raise ApiError(400)
    return value


class _Plan:
    """Per collection field list, what every read and write would otherwise work out again
    from the fields: the bound ``from_db`` of each field, which fields an output may show
    (``(name, hidden, is_email)``; an auth collection's password and ``tokenKey`` never), and
    for writes each field's zero value, ``to_db`` and checks, the autodates a create stamps,
    the text fields it generates and the relation fields to check."""

    __slots__ = ("checked", "fields", "generated", "readers", "relations", "shown", "stamped", "writers", "zeros")

    def __init__(self, collection: Collection, field_types: Mapping[str, Any]) -> None:
        fields = self.fields = collection.fields
        self.readers = [(f.name, functools.partial(field_types[f.type].from_db, f.data)) for f in fields]
        is_auth = collection.is_auth
        self.shown = [
            (f.name, f.hidden, is_auth and f.name == "email")
            for f in fields
            if not (is_auth and (f.type == "password" or f.name == "tokenKey"))
        ]
        self.zeros = [(f.name, functools.partial(field_types[f.type].zero_value, f.data)) for f in fields]
        self.writers = [(f.name, functools.partial(field_types[f.type].to_db, f.data)) for f in fields]
        #: ``(name, is_password, data, validate, primary_key)`` of every field but autodates
        self.checked = [
            (f.name, f.type == "password", f.data, field_types[f.type].validate, bool(f.get("primaryKey")))
            for f in fields
            if f.type != "autodate"
        ]
        self.stamped = [f.name for f in fields if f.type == "autodate" and (f.get("onCreate") or f.get("onUpdate"))]
        self.generated = [(f.name, f.data) for f in fields if f.type == "text" and f.get("autogeneratePattern")]
        self.relations = [(f.name, str(f.get("collectionId", ""))) for f in fields if f.type == "relation"]


class Records:
    """The records service the HTTP resources, batch and other plugins use."""

    def __init__(self, app: App, registry: Registry, field_types: Mapping[str, Any]) -> None:
        self.app = app
        self.db = app.db
        self.events = app.events
        self.registry = registry
        self.field_types = field_types
        self._plans: weakref.WeakKeyDictionary[Collection, _Plan] = weakref.WeakKeyDictionary()
        self._rule_cache = RuleCache()

    # ------------------------------------------------------------------ values

    def _plan(self, collection: Collection) -> _Plan:
        """How to read and show ``collection``'s fields, worked out once per field list."""
        plan = self._plans.get(collection)
        if plan is None or plan.fields is not collection.fields:
            plan = _Plan(collection, self.field_types)
            self._plans[collection] = plan
        return plan

    def values_from_row(self, collection: Collection, row: Mapping[str, Any]) -> dict[str, Any]:
        """API values of a stored row, every field included."""
        return {name: from_db(row[name]) for name, from_db in self._plan(collection).readers if name in row}

    def output(
        self,
        collection: Collection,
        values: Mapping[str, Any],
        ctx: Context,
        *,
        show_email: bool = False,
    ) -> dict[str, Any]:
        """The record as this requester may see it (hidden fields, email visibility)."""
        out: dict[str, Any] = {}
        superuser = ctx.superuser
        for name, hidden, is_email in self._plan(collection).shown:
            if name not in values or (hidden and not superuser):
                continue
            if is_email and not (
                show_email
                or values.get("emailVisibility")
                or superuser
                or (ctx.auth is not None and ctx.auth.collection_id == collection.id and ctx.auth.id == values.get("id"))
            ):
                continue
            out[name] = values[name]
        out["collectionId"] = collection.id
        out["collectionName"] = collection.name
        return out

    # ------------------------------------------------------------------ rules

    def _refuse_locked(self, collection: Collection, name: str, ctx: Context) -> None:
        """403 for a null (superusers only) rule: checked before anything else."""
        if collection.rule(name) is None and not ctx.superuser:
            raise ApiError(403, SUPERUSERS_ONLY)

    def _rule(self, collection: Collection, name: str, ctx: Context) -> tuple[str, builtins.list[Any]] | None:
        """The rule's SQL for this requester: None when it does not restrict them.

        Raises 403 for a null (superusers only) rule.
        """
        expression = collection.rule(name)
        if ctx.superuser:
            return None
        if expression is None:
            raise ApiError(403, SUPERUSERS_ONLY)
        if not expression.strip():
            return None
        compiled = self.compile_rule(expression, collection, ctx.info)
        return compiled.sql, compiled.params

    def compile_rule(self, expression: str, collection: Collection, info: RequestInfo) -> Sql:
        """``compile_filter(mode="rule")`` of an API rule, compiled once per schema and
        requester shape (``filter.cached``), its requester's values bound fresh."""
        return self._rule_cache.compile(expression, collection, self.registry, info, schema=self.registry.all())

    async def _matches(
        self, collection: Collection, record_id: str, rule: tuple[str, builtins.list[Any]] | None
    ) -> bool:
        if rule is None:
            return True
        return await self._read(_matches_on, collection, record_id, rule)

    async def _read(self, fn: Any, *args: Any, inline: bool = False) -> Any:
        """A read whose SQLite errors (from user filters) become PocketBase's 400.

        ``inline``: a tiny read (by primary key) that ``db.read_inline`` may run on the loop."""
        try:
            if inline:
                return await self.db.read_inline(fn, *args)
            return await self.db.read(fn, *args)
        except apsw.Error as exc:
            if isinstance(exc, apsw.InterruptError):
                raise
            raise ApiError(400) from exc

    # ------------------------------------------------------------------ reads

    def _list_query(
        self,
        collection: Collection,
        raw_filter: str,
        raw_sort: str,
        ctx: Context,
        filter_params: Mapping[str, Any] | None = None,
    ) -> _ListQuery:
        """What a list of ``collection`` for ``ctx`` selects and how it orders: the listRule
        (unless superuser) and ``raw_filter`` (its ``{:name}`` placeholders bound to
        ``filter_params``) in one join scope, then ``raw_sort``."""
        self._refuse_locked(collection, "listRule", ctx)
        rule = None if ctx.superuser else (collection.rule("listRule") or None)
        where: list[str] = []
        params: list[Any] = []
        if rule or raw_filter:
            # The list rule and ?filter share one join scope, as PocketBase compiles them.
            compiled = compile_filter(
                raw_filter, collection, self.registry, ctx.info, mode="filter", table_alias="main", and_rule=rule,
                params=filter_params,
            )
            where.append(f"({compiled.sql})")
            params += compiled.params
        order, order_params = "", []
        if raw_sort:
            sort = compile_sort(raw_sort, collection, self.registry, ctx.info)
            if sort.sql:
                order, order_params = sort.sql, list(sort.params)
            if sort.where:  # sorting through a rule-restricted relation drops rows
                where.append(f"({sort.where.sql})")
                params += sort.where.params
        where_sql = f" WHERE {' AND '.join(where)}" if where else ""
        return _ListQuery(f"{quote(collection.name)} AS main{where_sql}", params, order, order_params)

    async def select(
        self,
        collection: Collection,
        ctx: Context,
        *,
        filter: str = "",
        sort: str = "",
        limit: int | None = None,
        offset: int = 0,
        params: Mapping[str, Any] | None = None,
    ) -> builtins.list[dict[str, Any]]:
        """Stored values of the records a list for ``ctx`` shows, ordered by ``sort`` and then
        by insertion (a view, which has no insertion order, by ``id``), for other plugins: no
        page envelope, no output rules."""
        found = self._list_query(collection, filter, sort, ctx, params)
        tie_break = "main.id" if collection.is_view else "main.rowid"
        sql, bound = found.select_sql(-1 if limit is None else limit, offset, tie_break=tie_break)
        rows = await self._read(lambda conn: _rows(conn.execute(sql, bound)))
        return [self.values_from_row(collection, row) for row in rows]

    async def count(
        self, collection: Collection, ctx: Context, *, filter: str = "", params: Mapping[str, Any] | None = None
    ) -> int:
        """How many records a list for ``ctx`` with ``filter`` has."""
        sql, bound = self._list_query(collection, filter, "", ctx, params).count_sql()
        count: int = await self._read(lambda conn: conn.execute(sql, bound).get)
        return count

    async def list(self, collection: Collection, query: Mapping[str, str], ctx: Context) -> dict[str, Any]:
        """The page a list request (``?page``, ``?perPage``, ``?filter``, ``?sort``,
        ``?skipTotal``) shows ``ctx``, in PocketBase's envelope."""
        page = Page.parse(query)
        found = self._list_query(collection, query.get("filter", ""), query.get("sort", ""), ctx)
        select, select_params = found.select_sql(page.size, page.offset)
        count, count_params = found.count_sql()

        def run(conn: apsw.Connection) -> tuple[int, builtins.list[dict[str, Any]]]:
            total = -1 if page.skip_total else conn.execute(count, count_params).get
            return total, _rows(conn.execute(select, select_params))

        total, rows = await self._read(run)
        items = await self.present(collection, [self.values_from_row(collection, r) for r in rows], ctx)
        return page.envelope(items, total)

    async def get(self, collection: Collection, record_id: str) -> dict[str, Any] | None:
        """Stored values of one record, no rules (for other plugins and internal use)."""
        return await self._read(self._get_on, collection, record_id, inline=True)

    def _get_on(self, conn: apsw.Connection, collection: Collection, record_id: str) -> dict[str, Any] | None:
        rows = _rows(conn.execute(f"SELECT * FROM {quote(collection.name)} WHERE id = ?", (record_id,)))
        return self.values_from_row(collection, rows[0]) if rows else None

    async def view(self, collection: Collection, record_id: str, ctx: Context) -> dict[str, Any]:
        rule = self._rule(collection, "viewRule", ctx)
        sql = f"SELECT main.* FROM {quote(collection.name)} AS main WHERE main.id = ?"
        params: list[Any] = [record_id]
        if rule is not None:
            sql += f" AND ({rule[0]})"
            params += rule[1]
        # A primary-key read: inline on the event loop (a costly rule falls back to a thread).
        rows = await self._read(lambda conn: _rows(conn.execute(sql, params)), inline=True)
        if not rows:
            raise ApiError(404)
        [item] = await self.present(collection, [self.values_from_row(collection, rows[0])], ctx)
        return item

    async def present(
        self, collection: Collection, records: builtins.list[dict[str, Any]], ctx: Context
    ) -> builtins.list[dict[str, Any]]:
        """Output form of stored values: visibility, then ``expand``."""
        manageable = await self._manageable(collection, records, ctx)
        out = [self.output(collection, r, ctx, show_email=r.get("id") in manageable) for r in records]
        if ctx.expand and out:
            await self._expand(collection, records, out, _expand_tree(ctx.expand), ctx, 1)
        return out

    async def _manageable(
        self, collection: Collection, records: builtins.list[dict[str, Any]], ctx: Context
    ) -> set[str]:
        """Ids of auth records whose email the requester sees through ``manageRule``."""
        rule = collection.rule("manageRule") if collection.is_auth else None
        if not rule or ctx.superuser or ctx.auth is None:
            return set()
        hidden = [r["id"] for r in records if not r.get("emailVisibility")]
        if not hidden:
            return set()
        compiled = self.compile_rule(rule, collection, ctx.info)
        marks = ", ".join("?" for _ in hidden)
        sql = f"SELECT main.id FROM {quote(collection.name)} AS main WHERE main.id IN ({marks}) AND ({compiled.sql})"
        rows = await self._read(lambda conn: conn.execute(sql, (*hidden, *compiled.params)).fetchall())
        return {row[0] for row in rows}

    # ------------------------------------------------------------------ expand

    async def _expand(
        self,
        collection: Collection,
        records: builtins.list[dict[str, Any]],
        outputs: builtins.list[dict[str, Any]],
        tree: dict[str, dict[str, Any]],
        ctx: Context,
        depth: int,
    ) -> None:
        for name, subtree in tree.items():
            resolved = await self._resolve_expand(collection, records, name, ctx)
            if resolved is None:
                continue  # not a relation: ignored, as PocketBase does
            target, related, assign = resolved
            for output in outputs:
                output.setdefault("expand", {})
            if not related:
                continue
            related_values = list(related.values())
            related_out = await self.present(target, related_values, Context(ctx.auth, ctx.info))
            by_id = {values["id"]: out for values, out in zip(related_values, related_out, strict=True)}
            if subtree and depth < EXPAND_DEPTH:
                await self._expand(target, related_values, related_out, subtree, ctx, depth + 1)
            for values, output in zip(records, outputs, strict=True):
                value = assign(values, by_id)
                if value is not None:
                    output["expand"][name] = value

    async def _resolve_expand(
        self, collection: Collection, records: builtins.list[dict[str, Any]], name: str, ctx: Context
    ) -> tuple[Collection, dict[str, dict[str, Any]], Any] | None:
        field_ = collection.field(name)
        if field_ is not None and field_.type == "relation":
            if field_.hidden and not ctx.superuser:
                return None
            target = self.registry.get(str(field_.get("collectionId", "")))
            if target is None or not self._may_expand_into(target, ctx):
                return None
            multiple = self.field_types["relation"].is_multiple(field_.data)
            ids: list[str] = []
            for values in records:
                value = values.get(name)
                ids.extend(value if isinstance(value, list) else [value] if value else [])
            related = await self._visible_by_ids(target, list(dict.fromkeys(ids)), ctx)

            def assign(values: dict[str, Any], by_id: dict[str, Any]) -> Any:
                value = values.get(name)
                if multiple:
                    items = [by_id[i] for i in (value or []) if i in by_id]
                    return items or None
                return by_id.get(value) if value else None

            return target, related, assign
        if "_via_" in name:
            target_name, _, field_name = name.partition("_via_")
            target = self.registry.get(target_name)
            back = target.field(field_name) if target else None
            if target is None or back is None or back.type != "relation" or back.get("collectionId") != collection.id:
                return None
            if not self._may_expand_into(target, ctx):
                return None
            ids = [values["id"] for values in records]
            related, by_parent = await self._back_related(target, back, ids, ctx)
            single = has_unique_index(target, back.name)

            def assign_back(values: dict[str, Any], by_id: dict[str, Any]) -> Any:
                matches = [by_id[rid] for rid in by_parent.get(values["id"], ()) if rid in by_id]
                if not matches:
                    return None
                return matches[0] if single else matches

            return target, related, assign_back
        return None

    @staticmethod
    def _may_expand_into(target: Collection, ctx: Context) -> bool:
        """False for a superusers-only collection and another caller: PocketBase then drops
        that expand path whole (no ``expand`` key for it), where a rule that matches nothing
        still leaves an empty ``expand``."""
        return ctx.superuser or target.rule("viewRule") is not None

    async def _visible_by_ids(
        self, collection: Collection, ids: builtins.list[str], ctx: Context
    ) -> dict[str, dict[str, Any]]:
        if not ids:
            return {}
        expand_ctx = Context(ctx.auth, _with_context(ctx.info, "expand"))
        rule = self._rule(collection, "viewRule", expand_ctx)
        found: dict[str, dict[str, Any]] = {}
        for start in range(0, len(ids), IN_CHUNK):
            chunk = ids[start : start + IN_CHUNK]
            sql = f"SELECT main.* FROM {quote(collection.name)} AS main WHERE main.id IN ({', '.join('?' for _ in chunk)})"
            params: list[Any] = list(chunk)
            if rule is not None:
                sql += f" AND ({rule[0]})"
                params += rule[1]
            for row in await self._read(lambda conn, s=sql, p=params: _rows(conn.execute(s, p))):
                found[row["id"]] = self.values_from_row(collection, row)
        return {i: found[i] for i in ids if i in found}

    async def _back_related(
        self, collection: Collection, back: Field, ids: builtins.list[str], ctx: Context
    ) -> tuple[dict[str, dict[str, Any]], dict[str, builtins.list[str]]]:
        """Records of ``collection`` whose ``back`` relation points at ``ids``, at most
        ``BACK_RELATIONS_PER_RECORD`` per parent (cut in SQL), and their ids by parent."""
        expand_ctx = Context(ctx.auth, _with_context(ctx.info, "expand"))
        rule = self._rule(collection, "viewRule", expand_ctx)
        column = f"main.{quote(back.name)}"
        if self.field_types["relation"].is_multiple(back.data):
            source, parent = f"{quote(collection.name)} AS main, json_each({column}) AS parent", "parent.value"
        else:
            source, parent = f"{quote(collection.name)} AS main", column
        found: dict[str, dict[str, Any]] = {}
        by_parent: dict[str, list[str]] = {}
        for start in range(0, len(ids), IN_CHUNK):
            chunk = ids[start : start + IN_CHUNK]
            where = f"{parent} IN ({', '.join('?' for _ in chunk)})"
            params: list[Any] = list(chunk)
            if rule is not None:
                where += f" AND ({rule[0]})"
                params += rule[1]
            sql = (
                f"SELECT * FROM (SELECT main.*, {parent} AS __pbk_parent, ROW_NUMBER() OVER "
                f"(PARTITION BY {parent} ORDER BY main.rowid) AS __pbk_n FROM {source} WHERE {where}) "
                f"WHERE __pbk_n <= {BACK_RELATIONS_PER_RECORD} ORDER BY __pbk_parent, __pbk_n"
            )
            for row in await self._read(lambda conn, s=sql, p=params: _rows(conn.execute(s, p))):
                found.setdefault(row["id"], self.values_from_row(collection, row))
                by_parent.setdefault(row["__pbk_parent"], []).append(row["id"])
        return found, by_parent

    # ------------------------------------------------------------------ writes

    def _split_input(self, collection: Collection, data: Mapping[str, Any], ctx: Context) -> _Input:
        parsed = _Input()
        for key, value in data.items():
            name, op = key, ""
            if key.endswith("+"):
                name, op = key[:-1], "+"
            elif key.startswith("+"):
                name, op = key[1:], "^"
            elif key.endswith("-"):
                name, op = key[:-1], "-"
            f = collection.field(name)
            if f is None:
                if collection.is_auth and key in ("passwordConfirm", "oldPassword"):
                    parsed.extras[key] = value
                continue
            if f.type == "autodate" or (f.hidden and not ctx.superuser and f.type != "password"):
                continue
            if collection.is_auth and f.name == "tokenKey":
                continue
            if op:
                parsed.modifiers.append((name, op, value))
            else:
                parsed.values[name] = value
        return parsed

    def _apply(self, collection: Collection, values: dict[str, Any], parsed: _Input) -> None:
        for name, raw in parsed.values.items():
            f = collection.field(name)
            assert f is not None
            if f.type == "password":
                continue  # hashed separately, after validation
            values[name] = self.field_types[f.type].normalize(f.data, raw)
        for name, op, raw in parsed.modifiers:
            f = collection.field(name)
            assert f is not None
            field_type = self.field_types[f.type]
            current = values.get(name, field_type.zero_value(f.data))
            if f.type == "number":
                delta = field_type.normalize(f.data, raw)
                if op == "+":
                    values[name] = field_type.normalize(f.data, (current or 0) + delta)
                elif op == "-":
                    values[name] = field_type.normalize(f.data, (current or 0) - delta)
            elif field_type.is_multiple(f.data):
                items = field_type.normalize(f.data, raw)
                current_list = list(current or [])
                if op == "+":
                    merged = current_list + [i for i in items if i not in current_list]
                elif op == "^":
                    merged = [i for i in items if i not in current_list] + current_list
                else:
                    merged = [i for i in current_list if i not in items]
                values[name] = field_type.normalize(f.data, merged)
            elif op in "+^" and f.type in ("select", "relation"):
                # As PocketBase: the joined list, of which a single field keeps the last value,
                # so ``f+`` replaces the value and ``+f`` keeps it.
                stored = [current] if current else []
                added = raw if isinstance(raw, list) else [raw]
                values[name] = field_type.normalize(f.data, stored + added if op == "+" else added + stored)
            elif op == "-" and f.type in ("select", "relation", "file"):
                removed = field_type.normalize(f.data, raw)
                if current == removed or (isinstance(raw, list) and current in raw):
                    values[name] = field_type.zero_value(f.data)

    def _validate(
        self, collection: Collection, values: dict[str, Any], plain_password: str | None, *, creating: bool = True
    ) -> dict[str, Any]:
        errors: dict[str, Any] = {}
        for name, is_password, data, validate, primary_key in self._plan(collection).checked:
            if not creating and primary_key:
                continue  # PocketBase checks an id's format only when it is chosen
            value = plain_password if is_password and plain_password is not None else values.get(name)
            if is_password and plain_password is None:
                if data.get("required") and not values.get(name):
                    errors[name] = FieldError("validation_required", "Cannot be blank.")
                continue
            problem = validate(data, value)
            if problem is not None:
                errors[name] = problem
        return errors

    def _relation_queries(
        self,
        collection: Collection,
        values: Mapping[str, Any],
        errors: Mapping[str, Any],
        only: Sequence[str] | None = None,
    ) -> builtins.list[tuple[str, str | None, builtins.list[Any]]]:
        """Per relation field to check (those in ``only``, or all, but not those with errors):
        its name, the COUNT query (None: no such collection), ids."""
        queries: list[tuple[str, str | None, list[Any]]] = []
        for name, target_id in self._plan(collection).relations:
            if name in errors or (only is not None and name not in only):
                continue
            value = values.get(name)
            ids = value if isinstance(value, list) else [value] if value else []
            if not ids:
                continue
            target = self.registry.get(target_id)
            if target is None:
                queries.append((name, None, ids))
                continue
            marks = ", ".join("?" for _ in ids)
            queries.append((name, f"SELECT COUNT(*) FROM {quote(target.name)} WHERE id IN ({marks})", ids))
        return queries

    async def _check_relations(
        self,
        collection: Collection,
        values: Mapping[str, Any],
        errors: dict[str, Any],
        only: Sequence[str] | None = None,
    ) -> None:
        """Add ``validation_missing_rel_records`` to ``errors`` for each relation field (of
        ``only``, or all) naming a record that is not stored."""
        queries = self._relation_queries(collection, values, errors, only)
        if not queries:
            return

        def counts(conn: apsw.Connection) -> list[bool]:
            return [sql is not None and conn.execute(sql, ids).get == len(set(ids)) for _, sql, ids in queries]

        for (name, _, _), found in zip(queries, await self.db.read(counts), strict=True):
            if not found:
                errors[name] = FieldError("validation_missing_rel_records", "Failed to find all relation records with the provided ids.")

    async def _store_password(
        self, collection: Collection, values: dict[str, Any], password: str, errors: dict[str, Any],
        hashed: str | None = None,
    ) -> None:
        """Hash the new password into ``values`` (bcrypt in a thread: ~100 ms of CPU)."""
        field_ = _password_field(collection)
        if field_ is not None and field_.name not in errors:
            values[field_.name] = hashed or await asyncio.to_thread(self._hash_password, password)

    async def _prepare_password(
        self, collection: Collection, record_id: str, parsed: _Input
    ) -> tuple[str | None, tuple[str, bool] | None]:
        """The bcrypt work of an update, done before its transaction so no writer waits on it:
        the new password's hash, and ``(stored hash, oldPassword matches it)``."""
        field_ = _password_field(collection)
        raw = parsed.values.get(field_.name) if field_ is not None else None
        if field_ is None or raw is None or raw == "":
            return None, None
        hashed = None
        if self.field_types[field_.type].validate(field_.data, str(raw)) is None:
            hashed = await asyncio.to_thread(self._hash_password, str(raw))
        old = parsed.extras.get("oldPassword")
        if not old:
            return hashed, None
        stored = await self.get(collection, record_id)
        stored_hash = str((stored or {}).get(field_.name, ""))
        matches = await asyncio.to_thread(self._verify_password, str(old), stored_hash)
        return hashed, (stored_hash, matches)

    def _hash_password(self, password: str) -> str:
        try:
            hasher = password_hasher(self.app)
        except LookupError as exc:
            raise ApiError(500, "No password hasher is installed (the auth plugin provides bcrypt).") from exc
        return hasher.hash(password)

    def _autogenerate(self, collection: Collection, values: dict[str, Any]) -> None:
        for name, data in self._plan(collection).generated:
            if not values.get(name):
                values[name] = self.field_types["text"].autogenerate(data)

    async def create(
        self, collection: Collection, body: Body, ctx: Context, *, record_id: str = "", staged: bool = False
    ) -> dict[str, Any]:
        """Create a record from a request body; returns its stored values. ``record_id`` is the
        id to give it when the body names none, and ``staged`` says the caller already fired
        ``record_before_write`` for it (a batch does both before its transaction).

        The create rule is checked on a trial insert of the unvalidated values, before any
        validation: a caller it refuses gets PocketBase's bare 400, never a field error (which
        could tell them, say, which ids a relation's collection holds), and costs no
        validation or password hashing."""
        if collection.is_view:
            raise ApiError(400, "Unsupported collection type.")
        self._refuse_locked(collection, "createRule", ctx)
        parsed = self._split_input(collection, body.data, ctx)
        plan = self._plan(collection)
        values = {name: zero() for name, zero in plan.zeros}
        self._apply(collection, values, parsed)
        if record_id and not values.get("id"):
            values["id"] = record_id
        self._autogenerate(collection, values)
        stamp = now()
        for name in plan.stamped:
            values[name] = stamp
        ctx.info = dataclasses.replace(ctx.info, body=_body_for_rules(collection, values, parsed))
        verified_by_client = bool(collection.is_auth and "verified" in parsed.values and values.get("verified"))
        rules = self._create_rules(collection, ctx, ask_manage=verified_by_client)
        errors: dict[str, Any] = {}
        password = self._password_input(collection, parsed, errors, creating=True)
        one_step = not self.events.has(ev.RECORD_VALIDATE, collection) and not self.events.has(ev.RECORD_CREATE, collection)
        # In one step, a create rule alone (no manage rule, no password to hash in between, no
        # auth record whose trial differs) is checked on the row the INSERT itself writes.
        rule_on_insert = one_step and password is None and not collection.is_auth and rules is not None and rules[1] is None
        manager = rules is None
        if rules is not None and not rule_on_insert:
            manager = await self._trial_create(collection, values, *rules)
        if verified_by_client and not manager:
            errors["verified"] = FieldError("validation_values_mismatch", "Values don't match.")
        errors = {**self._validate(collection, values, password), **errors}
        if password is not None:
            await self._store_password(collection, values, password, errors)
        event = RecordEvent(
            collection=collection, record=values, auth=ctx.auth, files=body.files, errors=errors,
            submitted=frozenset(body.data), context=ctx.info.context,
        )
        if one_step:
            # No handler in either chain: both are their default actions, so the rule check, the
            # relation check, the validation verdict and the INSERT run in one writer call (one
            # transaction, or one savepoint of the caller's), not one hop each.
            await self.db.write(
                self._create_in_one, event, rules[0] if rules is not None and rule_on_insert else None,
                on_commit=lambda: self._after(ev.RECORD_AFTER_CREATE_SUCCESS, event),
                inline=True,
            )
            return event.record
        if staged:
            await self._create_write(event)
            return event.record
        before = RecordEvent(
            collection=collection, record=values, auth=ctx.auth, files=body.files, errors=errors,
            context=ctx.info.context,
        )
        await self.events.trigger(ev.RECORD_BEFORE_WRITE, before, lambda _: self._create_write(event))
        return event.record

    async def _create_write(self, event: RecordEvent) -> None:
        """``create``'s transaction (the default action of ``record_before_write``)."""
        collection, values, errors = event.collection, event.record, event.errors
        async with self.db.transaction():
            # NOTE: inside the transaction, so this read is the one that sends BEGIN (no extra hop).
            await self._check_relations(collection, values, errors)
            message = "Failed to create record."
            assigned = Assigned(self, event)
            await assigned.run(ev.RECORD_VALIDATE, event, self._raise_errors(message), message, writes=False)
            await assigned.run(ev.RECORD_CREATE, event, self._insert, message, writes=True)
            self.db.after_commit(lambda: self._after(ev.RECORD_AFTER_CREATE_SUCCESS, event))

    def _create_rules(
        self, collection: Collection, ctx: Context, *, ask_manage: bool
    ) -> tuple[_SQL | None, _SQL | None] | None:
        """The create rule's and (when ``ask_manage``) the manage rule's SQL for ``ctx``: None
        for a superuser, who may create and manage anything; ``(None, None)`` when neither
        restricts ``ctx``. Raises 403 for a null (superusers only) create rule."""
        if ctx.superuser:
            return None
        rule = self._rule(collection, "createRule", ctx)
        manage = None
        if ask_manage and ctx.auth is not None and collection.rule("manageRule"):
            compiled = self.compile_rule(str(collection.rule("manageRule")), collection, ctx.info)
            manage = (compiled.sql, compiled.params)
        return rule, manage

    async def _trial_create(
        self, collection: Collection, values: Mapping[str, Any], rule: _SQL | None, manage: _SQL | None
    ) -> bool:
        """Raise PocketBase's bare 400 unless the create rule admits the new record; return
        whether the requester may manage it (``manage``).

        As in PocketBase, both rules see the record inserted without validation (``verified``
        false, so a manage rule cannot lean on it), in a savepoint that is always undone."""
        if rule is None and manage is None:
            return False
        trial = dict(values)
        if collection.is_auth:
            trial["verified"] = False
        created, managed = await self.db.write(self._trial_insert, collection, trial, rule, manage, inline=True)
        if not created:
            raise ApiError(400, "Failed to create record.")
        return managed

    def _trial_insert(
        self,
        conn: apsw.Connection,
        collection: Collection,
        values: Mapping[str, Any],
        rule: tuple[str, builtins.list[Any]] | None,
        manage: tuple[str, builtins.list[Any]] | None,
    ) -> tuple[bool, bool]:
        """On the writer: insert ``values`` in a savepoint, test both rules on the row (created,
        managed), and undo the insert."""
        conn.execute("SAVEPOINT pbk_trial_insert")
        try:
            created = self._insert_under_rule(conn, collection, values, rule)
            check = f"SELECT 1 FROM {quote(collection.name)} AS main WHERE main.id = ? AND "
            managed = created and manage is not None and (
                conn.execute(f"{check}({manage[0]})", (values["id"], *manage[1])).fetchone() is not None
            )
        except apsw.Error as exc:
            if isinstance(exc, apsw.InterruptError):
                raise
            return False, False  # a failing rule: refused like any denial
        finally:
            conn.execute("ROLLBACK TO pbk_trial_insert; RELEASE pbk_trial_insert")
        return created, managed

    def _insert_under_rule(
        self, conn: apsw.Connection, collection: Collection, values: Mapping[str, Any], rule: _SQL | None
    ) -> bool:
        """On the writer: insert ``values`` and say whether ``rule`` admits the row; False (and
        nothing inserted) when the INSERT or the rule fails: a taken id or a failing rule is
        refused like any denial. The caller undoes the row it does not keep."""
        sql, params = self._insert_sql(collection, values)
        try:
            conn.execute(sql, params)
            check = f"SELECT 1 FROM {quote(collection.name)} AS main WHERE main.id = ? AND "
            return rule is None or conn.execute(f"{check}({rule[0]})", (values["id"], *rule[1])).fetchone() is not None
        except apsw.Error as exc:
            if isinstance(exc, apsw.InterruptError):
                raise
            return False

    def _missing_relations(
        self, conn: apsw.Connection, collection: Collection, values: Mapping[str, Any], errors: dict[str, Any]
    ) -> None:
        """``_check_relations`` on the writer's connection."""
        for name, sql, ids in self._relation_queries(collection, values, errors):
            if sql is None or conn.execute(sql, ids).get != len(set(ids)):
                errors[name] = FieldError(
                    "validation_missing_rel_records", "Failed to find all relation records with the provided ids."
                )

    def _create_in_one(self, conn: apsw.Connection, event: RecordEvent, rule: _SQL | None = None) -> None:
        """On the writer: what ``create`` does when no handler joins ``record_validate`` or
        ``record_create`` (relation check, ``_raise_errors``, ``_insert``). With ``rule``, the
        row is inserted after the relation check (a relation naming the new record's own id
        finds nothing, as on the normal path) and kept only if the rule admits it and the
        verdict is clean (the write function raising undoes it), which spares the trial insert
        its own writer call. Safe to run again after an interrupted run was rolled back."""
        message = "Failed to create record."
        collection, values = event.collection, event.record
        self._missing_relations(conn, collection, values, event.errors)
        if rule is not None and not self._insert_under_rule(conn, collection, values, rule):
            raise ApiError(400, message)
        self._check_verdict(event, message)
        if rule is not None:
            return  # inserted above
        sql, params = self._insert_sql(collection, values)
        try:
            conn.execute(sql, params)
        except apsw.ConstraintError as exc:
            raise _constraint_error(exc, message) from exc

    async def update(
        self, collection: Collection, record_id: str, body: Body, ctx: Context, *, staged: bool = False
    ) -> dict[str, Any]:
        """Update a record from a request body; ``staged``: as for :meth:`create`."""
        if collection.is_view:
            raise ApiError(400, "Unsupported collection type.")
        self._refuse_locked(collection, "updateRule", ctx)
        parsed = self._split_input(collection, body.data, ctx)
        if self._updates_in_one(collection, staged=staged):
            # No handler in any chain and no password: the read, the rule, the checks and the
            # UPDATE run in one writer call (one transaction, or a savepoint of the caller's).
            done: builtins.list[RecordEvent] = []
            await self.db.write(
                self._update_in_one, collection, record_id, body, ctx, parsed, done,
                on_commit=lambda: self._after(ev.RECORD_AFTER_UPDATE_SUCCESS, done[0]),
                inline=True,
            )
            return done[0].record
        hashed, old_check = await self._prepare_password(collection, record_id, parsed)
        if staged:
            return await self._update_write(collection, record_id, body, ctx, parsed, hashed, old_check)
        before = RecordEvent(
            collection=collection, record={"id": record_id}, auth=ctx.auth, files=body.files, context=ctx.info.context
        )
        written: builtins.list[dict[str, Any]] = []

        async def write(_: RecordEvent) -> None:
            written.append(await self._update_write(collection, record_id, body, ctx, parsed, hashed, old_check))

        await self.events.trigger(ev.RECORD_BEFORE_WRITE, before, write)
        if not written:  # a handler stopped the chain
            raise ApiError(400, "Failed to update record.")
        return written[0]

    def _updates_in_one(self, collection: Collection, *, staged: bool) -> bool:
        """Whether an update of ``collection`` may run in one writer call: no handler on
        ``record_validate``, ``record_update`` or (unless the caller fired it) on
        ``record_before_write``, and no password (hashed, and on auth records checked, first)."""
        has = self.events.has
        return (
            not collection.is_auth
            and _password_field(collection) is None
            and not has(ev.RECORD_VALIDATE, collection)
            and not has(ev.RECORD_UPDATE, collection)
            and (staged or not has(ev.RECORD_BEFORE_WRITE, collection))
        )

    def _update_rule(
        self, collection: Collection, original: Mapping[str, Any], parsed: _Input, ctx: Context
    ) -> _SQL | None:
        """The update rule's SQL, with ``@request.body`` the submitted values applied to the
        stored ones (as PocketBase shows them to the rule)."""
        preview = _copy_values(original)
        self._apply(collection, preview, parsed)
        ctx.info = dataclasses.replace(ctx.info, body=_body_for_rules(collection, preview, parsed))
        return self._rule(collection, "updateRule", ctx)

    def _updated_values(
        self, collection: Collection, record_id: str, original: Mapping[str, Any], parsed: _Input
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """The new values (modifiers applied, ``onUpdate`` autodates stamped) and the errors
        found so far (a changed primary key)."""
        values = _copy_values(original)
        self._apply(collection, values, parsed)
        errors: dict[str, Any] = {}
        if values.get("id") != record_id:
            errors["id"] = FieldError("validation_pk_change", "The record primary key cannot be changed.")
            values["id"] = record_id
        stamp = now()
        for f in collection.fields:
            if f.type == "autodate" and f.get("onUpdate"):
                values[f.name] = stamp
        return values, errors

    def _update_in_one(
        self, conn: apsw.Connection, collection: Collection, record_id: str, body: Body, ctx: Context,
        parsed: _Input, done: builtins.list[RecordEvent],
    ) -> None:
        """On the writer: ``_update_write`` when no handler joins (see ``_updates_in_one``);
        the event it would fire is appended to ``done``."""
        original = self._get_on(conn, collection, record_id)
        if original is None:
            raise ApiError(404)
        rule = self._update_rule(collection, original, parsed, ctx)
        if rule is not None and not _matches_on(conn, collection, record_id, rule):
            raise ApiError(404)
        values, errors = self._updated_values(collection, record_id, original, parsed)
        errors = {**self._validate(collection, values, None, creating=False), **errors}
        self._missing_relations(conn, collection, values, errors)
        ctx.info = dataclasses.replace(ctx.info, body=_body_for_rules(collection, values, parsed))
        event = RecordEvent(
            collection=collection, record=values, original=original, auth=ctx.auth, files=body.files,
            errors=errors, submitted=frozenset(body.data), context=ctx.info.context,
        )
        message = "Failed to update record."
        self._check_verdict(event, message)
        sql, params = self._update_sql(collection, values)
        try:
            conn.execute(sql, params)
        except apsw.ConstraintError as exc:
            raise _constraint_error(exc, message) from exc
        done.append(event)

    async def _update_write(
        self, collection: Collection, record_id: str, body: Body, ctx: Context, parsed: _Input,
        hashed: str | None, old_check: tuple[str, bool] | None,
    ) -> dict[str, Any]:
        """``update``'s transaction (the default action of ``record_before_write``)."""
        async with self.db.transaction():
            original = await self.get(collection, record_id)
            if original is None:
                raise ApiError(404)
            rule = self._update_rule(collection, original, parsed, ctx)
            if rule is not None and not await self._matches(collection, record_id, rule):
                raise ApiError(404)
            values, errors = self._updated_values(collection, record_id, original, parsed)
            password = self._password_input(collection, parsed, errors, creating=False)
            if collection.is_auth:
                await self._auth_update_checks(collection, original, values, parsed, password, old_check, ctx, errors)
            errors = {**self._validate(collection, values, password, creating=False), **errors}
            await self._check_relations(collection, values, errors)
            if password is not None:
                await self._store_password(collection, values, password, errors, hashed)
            if collection.is_auth and (password is not None or values.get("email") != original.get("email")):
                token_key = collection.field("tokenKey")
                values["tokenKey"] = self.field_types["text"].autogenerate(token_key.data if token_key else {})
            ctx.info = dataclasses.replace(ctx.info, body=_body_for_rules(collection, values, parsed))
            event = RecordEvent(
                collection=collection, record=values, original=original, auth=ctx.auth, files=body.files,
                errors=errors, submitted=frozenset(body.data), context=ctx.info.context,
            )
            message = "Failed to update record."
            assigned = Assigned(self, event)
            await assigned.run(ev.RECORD_VALIDATE, event, self._raise_errors(message), message, writes=False)
            await assigned.run(ev.RECORD_UPDATE, event, self._update, message, writes=True)
            self.db.after_commit(lambda: self._after(ev.RECORD_AFTER_UPDATE_SUCCESS, event))
        return event.record

    async def delete(self, collection: Collection, record_id: str, ctx: Context) -> None:
        if collection.is_view:
            raise ApiError(400, "Unsupported collection type.")
        rule = self._rule(collection, "deleteRule", ctx)
        if not self.events.has(ev.RECORD_DELETE, collection) and not self._referenced(collection):
            # Nothing to cascade and no handler: the read, the rule and the DELETE in one call.
            done: builtins.list[RecordEvent] = []
            await self.db.write(
                self._delete_in_one, collection, record_id, rule, ctx, done,
                on_commit=lambda: self._after(ev.RECORD_AFTER_DELETE_SUCCESS, done[0]),
                inline=True,
            )
            return
        async with self.db.transaction():
            original = await self.get(collection, record_id)
            if original is None or (rule is not None and not await self._matches(collection, record_id, rule)):
                raise ApiError(404)
            await self.delete_values(collection, original, ctx, visited=set())

    def _referenced(self, collection: Collection) -> bool:
        """Whether a relation field of a stored (non-view) collection points at ``collection``."""
        return any(not ref.is_view for ref, _ in self.registry.references_to(collection))

    def _delete_in_one(
        self, conn: apsw.Connection, collection: Collection, record_id: str, rule: _SQL | None, ctx: Context,
        done: builtins.list[RecordEvent],
    ) -> None:
        """On the writer: ``delete`` of a record nothing references and no handler watches;
        the event ``record_after_delete_success`` gets is appended to ``done``."""
        original = self._get_on(conn, collection, record_id)
        if original is None or (rule is not None and not _matches_on(conn, collection, record_id, rule)):
            raise ApiError(404)
        conn.execute(f"DELETE FROM {quote(collection.name)} WHERE id = ?", (record_id,))
        done.append(RecordEvent(
            collection=collection, record=original, original=original, auth=ctx.auth, context=ctx.info.context
        ))

    async def delete_values(
        self, collection: Collection, values: dict[str, Any], ctx: Context, *, visited: set[str]
    ) -> None:
        """Delete a record inside the current transaction, resolving references first."""
        key = f"{collection.id}/{values['id']}"
        if key in visited:
            return
        visited.add(key)
        for ref_collection, ref_field in self.registry.references_to(collection):
            if ref_collection.is_view:
                continue
            for ref_values in await self._referencing(ref_collection, ref_field, values["id"]):
                if ref_field.get("cascadeDelete"):
                    await self.delete_values(ref_collection, ref_values, ctx, visited=visited)
                    continue
                current = ref_values.get(ref_field.name)
                remaining = [i for i in current if i != values["id"]] if isinstance(current, list) else ""
                if ref_field.required and not remaining:
                    raise ApiError(400, REQUIRED_REFERENCE)
                updated = {**ref_values, ref_field.name: remaining}
                event = RecordEvent(
                    collection=ref_collection, record=updated, original=ref_values, auth=ctx.auth,
                    context=ctx.info.context,
                )
                await Assigned(self, event).run(
                    ev.RECORD_UPDATE, event, self._update, "Failed to update record.", writes=True
                )
                self.db.after_commit(functools.partial(self._after, ev.RECORD_AFTER_UPDATE_SUCCESS, event))
        event = RecordEvent(
            collection=collection, record=values, original=values, auth=ctx.auth, context=ctx.info.context
        )
        await self.events.trigger(ev.RECORD_DELETE, event, self._delete)
        self.db.after_commit(lambda: self._after(ev.RECORD_AFTER_DELETE_SUCCESS, event))

    async def _referencing(self, collection: Collection, f: Field, record_id: str) -> builtins.list[dict[str, Any]]:
        column = quote(f.name)
        if self.field_types["relation"].is_multiple(f.data):
            condition = f"EXISTS (SELECT 1 FROM json_each({column}) WHERE json_each.value = ?)"
        else:
            condition = f"{column} = ?"
        sql = f"SELECT * FROM {quote(collection.name)} WHERE {condition}"
        rows = await self.db.read(lambda conn: _rows(conn.execute(sql, (record_id,))))
        return [self.values_from_row(collection, r) for r in rows]

    # ------------------------------------------------------------------ auth records

    def _password_input(
        self, collection: Collection, parsed: _Input, errors: dict[str, Any], *, creating: bool
    ) -> str | None:
        """The new plain password (hashed before it is stored), with ``passwordConfirm``
        checked on auth collections; None when it does not change."""
        field_ = _password_field(collection)
        if field_ is None:
            return None
        raw = parsed.values.get(field_.name)
        if raw is None or raw == "":
            if creating and field_.required:
                errors[field_.name] = FieldError("validation_required", "Cannot be blank.")
            return None
        password = raw if isinstance(raw, str) else str(raw)
        if collection.is_auth and parsed.extras.get("passwordConfirm") != raw:
            errors["passwordConfirm"] = FieldError("validation_values_mismatch", "Values don't match.")
        return password

    async def _can_manage(self, collection: Collection, record_id: str, ctx: Context) -> bool:
        rule = collection.rule("manageRule")
        if ctx.superuser:
            return True
        if not rule or ctx.auth is None:
            return False
        compiled = self.compile_rule(rule, collection, ctx.info)
        return await self._matches(collection, record_id, (compiled.sql, compiled.params))

    async def _auth_update_checks(
        self,
        collection: Collection,
        original: Mapping[str, Any],
        values: dict[str, Any],
        parsed: _Input,
        password: str | None,
        old_check: tuple[str, bool] | None,
        ctx: Context,
        errors: dict[str, Any],
    ) -> None:
        manager = await self._can_manage(collection, original["id"], ctx)
        if manager:
            return
        for name in ("email", "verified"):
            if name in parsed.values and values.get(name) != original.get(name):
                errors[name] = FieldError("validation_values_mismatch", "Values don't match.")
        if password is not None:
            old = parsed.extras.get("oldPassword")
            if not old:
                errors["oldPassword"] = FieldError("validation_required", "Cannot be blank.")
            elif old_check is None or old_check[0] != str(original.get("password", "")) or not old_check[1]:
                # (checked before the transaction; a password changed since then fails too)
                errors["oldPassword"] = FieldError("validation_invalid_old_password", "Missing or invalid old password.")

    def _verify_password(self, password: str, hashed: str) -> bool:
        try:
            hasher = password_hasher(self.app)
        except LookupError:
            return False
        return bool(hashed) and hasher.verify(password, hashed)

    # ------------------------------------------------------------------ SQL

    def _check_verdict(self, event: RecordEvent, message: str) -> None:
        if event.errors:
            raise ApiError(400, message, event.errors)
        if event.files and not self.app.services.providers(FILE_STORAGE):
            raise ApiError(400, message, {
                name: FieldError("validation_invalid_file", "File uploads need a file storage plugin.")
                for name in event.files
            })

    def _raise_errors(self, message: str) -> Any:
        async def default(event: RecordEvent) -> None:
            self._check_verdict(event, message)

        return default

    def _insert_sql(self, collection: Collection, values: Mapping[str, Any]) -> tuple[str, tuple[Any, ...]]:
        row = self._db_row(collection, values)
        columns = ", ".join(quote(c) for c in row)
        sql = f"INSERT INTO {quote(collection.name)} ({columns}) VALUES ({', '.join('?' for _ in row)})"
        return sql, tuple(row.values())

    async def _insert(self, event: RecordEvent) -> None:
        sql, params = self._insert_sql(event.collection, event.record)
        await self._write_unique(event.collection, sql, params, "Failed to create record.")

    def _update_sql(self, collection: Collection, values: Mapping[str, Any]) -> tuple[str, tuple[Any, ...]]:
        row = self._db_row(collection, values)
        assignments = ", ".join(f"{quote(c)} = ?" for c in row)
        return f"UPDATE {quote(collection.name)} SET {assignments} WHERE id = ?", (*row.values(), values["id"])

    async def _update(self, event: RecordEvent) -> None:
        sql, params = self._update_sql(event.collection, event.record)
        await self._write_unique(event.collection, sql, params, "Failed to update record.")

    async def _delete(self, event: RecordEvent) -> None:
        sql = f"DELETE FROM {quote(event.collection.name)} WHERE id = ?"
        await self.db.write(lambda conn: conn.execute(sql, (event.record["id"],)), inline=True)

    def _db_row(self, collection: Collection, values: Mapping[str, Any]) -> dict[str, Any]:
        return {name: to_db(values[name]) for name, to_db in self._plan(collection).writers if name in values}

    async def _write_unique(self, collection: Collection, sql: str, params: tuple[Any, ...], message: str) -> None:
        try:
            await self.db.write(lambda conn: conn.execute(sql, params), inline=True)
        except apsw.ConstraintError as exc:
            raise _constraint_error(exc, message) from exc

    async def _after(self, name: str, event: RecordEvent) -> None:
        if self.events.has(name, event.collection):
            await self.events.trigger(name, event)


def _constraint_error(exc: apsw.ConstraintError, message: str) -> ApiError:
    """PocketBase's 400 for a failed constraint (``validation_not_unique`` per UNIQUE column)."""
    text = str(exc)
    if "UNIQUE constraint failed" not in text:
        return ApiError(400, message)
    errors: dict[str, Any] = {}
    for column in text.split("failed:", 1)[1].split(","):
        name = column.strip().split(".")[-1]
        errors[name] = FieldError("validation_not_unique", "Value must be unique.")
    return ApiError(400, message, errors)


def _matches_on(conn: apsw.Connection, collection: Collection, record_id: str, rule: _SQL) -> bool:
    """Whether ``rule`` admits the stored record ``record_id``; a rule SQLite cannot run is
    PocketBase's 400, as a failing filter is."""
    sql = f"SELECT 1 FROM {quote(collection.name)} AS main WHERE main.id = ? AND ({rule[0]})"
    try:
        return conn.execute(sql, (record_id, *rule[1])).fetchone() is not None
    except apsw.Error as exc:
        if isinstance(exc, apsw.InterruptError):
            raise
        raise ApiError(400) from exc


def _copy_values(values: Mapping[str, Any]) -> dict[str, Any]:
    """A copy a write may change: lists and objects (multi-values, JSON) copied deeply, the
    immutable rest shared."""
    return {name: copy.deepcopy(v) if isinstance(v, (list, dict)) else v for name, v in values.items()}


def _password_field(collection: Collection) -> Field | None:
    return next((f for f in collection.fields if f.type == "password"), None)


def _expand_tree(paths: Sequence[str]) -> dict[str, dict[str, Any]]:
    tree: dict[str, dict[str, Any]] = {}
    for path in paths:
        node = tree
        for segment in path.split(".")[:EXPAND_DEPTH]:
            if segment:
                node = node.setdefault(segment, {})
    return tree


def _with_context(info: RequestInfo, context: str) -> RequestInfo:
    return dataclasses.replace(info, context=context)


def _body_for_rules(collection: Collection, values: Mapping[str, Any], parsed: _Input) -> dict[str, Any]:
    """``@request.body``: the submitted fields with modifiers applied (PocketBase's semantics)."""
    submitted = set(parsed.values) | {name for name, _, _ in parsed.modifiers}
    body = {name: values.get(name) for name in submitted if name in values}
    if "password" in parsed.values:
        body["password"] = parsed.values["password"]
    body.update(parsed.extras)
    return body
