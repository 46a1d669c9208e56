"""Reading records under API rules: lists with filter, sort and paging, views, and expand.

``RecordReads`` is the base of ``records.Records``, which adds the writes; both share the
per-collection plan of how each field is read, shown and written (``_Plan``).
"""

from __future__ import annotations

import builtins
import dataclasses
import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import apsw
from pbk_sdk import events as ev
from pbk_sdk.auth import RequestAuth
from pbk_sdk.errors import ApiError
from pbk_sdk.events import RecordEnrichEvent
from pbk_sdk.gostrconv import parse_bool
from pbk_sdk.interfaces import App

from .collections import Registry, current_schema
from .ddl import quoter
from .filter import RequestInfo, Sql, compile_filter, compile_sort, dialect_for, has_unique_index
from .filter.cached import RuleCache
from .schema import Collection, Field

PER_PAGE = 30
PER_PAGE_MAX = 1000
EXPAND_DEPTH = 6
BACK_RELATIONS_PER_RECORD = 1000
MAX_OFFSET = 2**62
IN_CHUNK = 500
SUPERUSERS_ONLY = "Only superusers can perform this action."

#: A multiple value's JSON column as an array on PostgreSQL (anything else stored there: none).
PG_ARRAY = "CASE WHEN json_typeof({0}) = 'array' THEN {0} ELSE '[]'::json END"

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

    def select_sql(self, limit: int | None, offset: int, *, tie_break: str = "") -> tuple[str, tuple[Any, ...]]:
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
    value = parse_bool(raw)
    if value is None:
        raise ApiError(400)
    return value


class _Plan:
    """Per collection field list, what every read and write would otherwise work out again
    from the fields: the bound ``from_db`` of each field, which fields an output may show
    (``(name, hidden, is_email)``; an auth collection's password and ``tokenKey`` never), and
    for writes each field's zero value, ``to_db`` and checks, the autodates a create stamps,
    the text fields it generates and the relation fields to check."""

    __slots__ = ("checked", "fields", "generated", "open", "readers", "relations", "shown", "stamped", "writers",
                 "zeros")

    def __init__(self, collection: Collection, field_types: Mapping[str, Any]) -> None:
        fields = self.fields = collection.fields
        self.readers = [(f.name, _reader(field_types[f.type], f.data)) for f in fields]
        is_auth = collection.is_auth
        self.shown = [
            (f.name, f.hidden, is_auth and f.name == "email")
            for f in fields
            if not (is_auth and (f.type == "password" or f.name == "tokenKey"))
        ]
        #: the names ``shown`` when none of them is hidden or an email (every requester sees
        #: them all), else None
        self.open = None if any(hidden or is_email for _, hidden, is_email in self.shown) else [
            name for name, _, _ in self.shown]
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


def _reader(field_type: Any, field: Mapping[str, Any]) -> Any:
    """``field_type.from_db`` of ``field`` as a one-argument function (the built-in types make
    their own, faster ones)."""
    make = getattr(field_type, "reader", None)
    return make(field) if make is not None else functools.partial(field_type.from_db, field)


class RecordReads:
    """The read half of the records service (see ``records.Records``)."""

    def __init__(self, app: App, registry: Registry, field_types: Mapping[str, Any]) -> None:
        self.app = app
        self.db = app.db
        self.events = app.events
        self._registry = registry
        self.field_types = field_types
        self._rule_cache = RuleCache()
        #: ``app.db.engine``: which SQL this plugin writes (the filter compiler's dialect too)
        self.engine: str = self.db.engine
        self.quote = quoter(self.engine)
        self.dialect = dialect_for(self.engine)

    @property
    def registry(self) -> Registry:
        """The schema, as a migration or import this task runs in has changed it."""
        return current_schema(self._registry)

    # ------------------------------------------------------------------ values

    def _plan(self, collection: Collection) -> _Plan:
        """How to read and show ``collection``'s fields, worked out once per field list and
        kept on the collection (a weak mapping's lookup cost a view 1%)."""
        plan: _Plan | None = collection.plans.get(self)
        if plan is None or plan.fields is not collection.fields:
            plan = collection.plans[self] = _Plan(collection, self.field_types)
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
        plan = self._plan(collection)
        if plan.open is not None:
            out = {name: values[name] for name in plan.open if name in values}
        else:
            out = self._guarded_output(collection, plan, values, ctx, show_email)
        out["collectionId"] = collection.id
        out["collectionName"] = collection.name
        return out

    @staticmethod
    def _guarded_output(
        collection: Collection, plan: _Plan, values: Mapping[str, Any], ctx: Context, show_email: bool
    ) -> dict[str, Any]:
        out: dict[str, Any] = {}
        superuser = ctx.superuser
        for name, hidden, is_email in plan.shown:
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
        if self.engine != "sqlite":  # the cache compiles for SQLite only
            return compile_filter(
                expression, collection, self.registry, info, mode="rule", table_alias="main", dialect=self.dialect
            )
        return self._rule_cache.compile(expression, collection, self.registry, info, schema=self.registry.all())

    async def _matches(
        self, collection: Collection, record_id: str, rule: tuple[str, builtins.list[Any]] | None
    ) -> bool:
        if rule is None:
            return True
        return await self._read(self._matches_on, collection, record_id, rule)

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
                params=filter_params, dialect=self.dialect,
            )
            where.append(f"({compiled.sql})")
            params += compiled.params
        order, order_params = "", []
        if raw_sort:
            sort = compile_sort(raw_sort, collection, self.registry, ctx.info, dialect=self.dialect)
            if sort.sql:
                order, order_params = sort.sql, list(sort.params)
            if sort.where:  # sorting through a rule-restricted relation drops rows
                where.append(f"({sort.where.sql})")
                params += sort.where.params
        where_sql = f" WHERE {' AND '.join(where)}" if where else ""
        return _ListQuery(f"{self.quote(collection.name)} AS main{where_sql}", params, order, order_params)

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
        if limit is None:
            limit = -1 if self.engine == "sqlite" else None  # no limit (PostgreSQL: LIMIT NULL)
        sql, bound = found.select_sql(limit, offset, tie_break=tie_break)
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

    def _get_on(
        self, conn: apsw.Connection, collection: Collection, record_id: str, *, lock: bool = False
    ) -> dict[str, Any] | None:
        """``lock``: the writer reads the row it changes next (``score+``); on PostgreSQL the
        row is locked until the commit, so a writer of another node waits for it."""
        sql = f"SELECT * FROM {self.quote(collection.name)} WHERE id = ?"
        if self.engine != "sqlite":
            if "\x00" in record_id:
                return None  # no text there holds NUL (PostgreSQL would refuse the parameter)
            if lock:
                sql += " FOR UPDATE"
        rows = _rows(conn.execute(sql, (record_id,)))
        return self.values_from_row(collection, rows[0]) if rows else None

    async def view(self, collection: Collection, record_id: str, ctx: Context) -> dict[str, Any]:
        rule = self._rule(collection, "viewRule", ctx)
        if self.engine != "sqlite" and "\x00" in record_id:
            raise ApiError(404)  # see _get_on
        sql = f"SELECT main.* FROM {self.quote(collection.name)} AS main WHERE main.id = ?"
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
        if self.events.has(ev.RECORD_ENRICH, collection):
            for index, item in enumerate(out):
                event = RecordEnrichEvent(collection=collection, record=item, auth=ctx.auth)
                await self.events.trigger(ev.RECORD_ENRICH, event)
                out[index] = event.record
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
        sql = f"SELECT main.id FROM {self.quote(collection.name)} AS main WHERE main.id IN ({marks}) AND ({compiled.sql})"
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
            sql = f"SELECT main.* FROM {self.quote(collection.name)} AS main WHERE main.id IN ({', '.join('?' for _ in chunk)})"
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
        column = f"main.{self.quote(back.name)}"
        if self.field_types["relation"].is_multiple(back.data) and self.engine != "sqlite":
            source = f"{self.quote(collection.name)} AS main, json_array_elements_text({PG_ARRAY.format(column)}) AS parent"
            parent = "parent"
        elif self.field_types["relation"].is_multiple(back.data):
            source, parent = f"{self.quote(collection.name)} AS main, json_each({column}) AS parent", "parent.value"
        else:
            source, parent = f"{self.quote(collection.name)} AS main", column
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
                f"{'' if self.engine == 'sqlite' else 'AS __pbk_back '}"
                f"WHERE __pbk_n <= {BACK_RELATIONS_PER_RECORD} ORDER BY __pbk_parent, __pbk_n"
            )
            for row in await self._read(lambda conn, s=sql, p=params: _rows(conn.execute(s, p))):
                found.setdefault(row["id"], self.values_from_row(collection, row))
                by_parent.setdefault(row["__pbk_parent"], []).append(row["id"])
        return found, by_parent

    def _matches_on(self, conn: apsw.Connection, collection: Collection, record_id: str, rule: _SQL) -> bool:
        """Whether ``rule`` admits the stored record ``record_id``; a rule SQLite cannot run is
        PocketBase's 400, as a failing filter is."""
        sql = f"SELECT 1 FROM {self.quote(collection.name)} AS main WHERE main.id = ? AND ({rule[0]})"
        try:
            return conn.execute(sql, (record_id, *rule[1])).fetchone() is not None
        except apsw.Error as exc:
            if isinstance(exc, apsw.InterruptError):
                raise
            raise ApiError(400) from exc


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
