"""API rules compiled once per collection and schema, their requester's values bound per request.

Compiling a rule costs more than the query it guards on a write, and most rules read nothing
of the request but the signed-in record (``@request.auth.id != ""``, ``author =
@request.auth.id``). Such a rule compiles to the same SQL for every requester whose
``@request.auth`` values are of the same *shape* (absent, empty text, some text, or the same
number or boolean); only the bound values differ. :class:`RuleCache` compiles it once per
shape with a marker text in place of each text value, finds the markers among the bound
values and puts the requester's values there on every later use.

What is cached is exactly what compiling again would produce: a rule is only cached when
every ``@request`` it names is under ``@request.auth.`` and it uses no date macro (``@now``
...), the key holds everything else of the request the compiler reads (the auth record's
collection, which of its values are empty, non-text values as they are), and a compilation
in which a marker was transformed rather than bound as it is (``~`` wraps its operand in
``%``) is not reused. The cache is emptied whenever the schema changes.
"""

from __future__ import annotations

import threading
from collections.abc import Hashable, Mapping
from typing import Any

from ..schema import Collection
from .compiler import PLAIN_AUTH_FIELDS, CollectionLookup, RequestInfo, Sql, compile_filter
from .dialect import SQLITE, SQLiteDialect
from .macros import MACROS
from .parser import Comparison, Group, Node, Operand, parse
from .values import go_to_string

_AUTH = "@request.auth."
#: how a marker starts: a control character no requester's value is compared against here
_MARKER = "\x01pbk-rule-value:"
#: a rule whose compilation cannot be reused (its key maps to this)
_UNCACHEABLE = object()
#: auth values the compiler finds the auth record's collection by (to join it): a marker there
#: would find none, so they are part of the key as they are and never replaced by markers
_RESOLVING = frozenset(("collectionId", "collectionName"))


def _identifiers(node: Node) -> list[str]:
    if isinstance(node, Comparison):
        return _operand_identifiers(node.left) + _operand_identifiers(node.right)
    assert isinstance(node, Group)
    return [name for _, child in node.items for name in _identifiers(child)]


def _operand_identifiers(operand: Operand) -> list[str]:
    if operand.kind == "identifier":
        return [operand.value]
    return [name for arg in operand.args for name in _operand_identifiers(arg)]


class _Reads:
    """What of ``@request`` a rule reads: the plain auth values it binds as they are, and
    whether it joins the auth record (which reads its id and collection)."""

    __slots__ = ("joins_auth", "plain")

    def __init__(self, plain: tuple[str, ...], joins_auth: bool) -> None:
        self.plain = plain
        self.joins_auth = joins_auth

    @classmethod
    def of(cls, expression: str) -> _Reads | None:
        """None when the rule reads something of the request other than the auth record, or
        the clock."""
        if _MARKER in expression:
            return None  # a literal that looks like a marker
        plain: set[str] = set()
        joins_auth = False
        for name in _identifiers(parse(expression)):
            if name in MACROS or (name.startswith("@") and not name.startswith(("@request.", "@collection."))):
                return None
            if not name.startswith("@request."):
                continue
            if not name.startswith(_AUTH):
                return None
            if name in PLAIN_AUTH_FIELDS:
                plain.add(name[len(_AUTH):])
            else:
                joins_auth = True
        return cls(tuple(sorted(plain)), joins_auth)


def _shape(value: Any, *, resolving: bool = False) -> Hashable:
    """What compiling reads of a value besides the value itself: a text is bound as it is
    (only its emptiness matters) unless it is ``resolving`` (a collection the compiler loads),
    anything else is part of the key."""
    if isinstance(value, str):
        if resolving:
            return ("str", value)
        return "text" if value else ""
    if value is None or isinstance(value, (bool, int, float)):
        return (type(value).__name__, value)
    return _UNCACHEABLE


class _Compiled:
    __slots__ = ("fields", "indexes", "slots", "sql")

    def __init__(self, sql: Sql, slots: tuple[tuple[int, str], ...], collection: Collection) -> None:
        self.sql = sql
        self.slots = slots  # (position among the bound values, auth key whose value goes there)
        self.fields = collection.fields
        self.indexes = collection.indexes


class RuleCache:
    """Compiled rules by (rule, collection, table alias, requester's shape), for one schema.

    Used from the event loop and the writer thread at once: the emptying and the choice of
    the dictionaries to use happen under a lock, and each call works on the ones it chose."""

    MAX_ENTRIES = 1024

    def __init__(self) -> None:
        self._schema: object = None
        self._reads: dict[str, _Reads | None] = {}
        self._compiled: dict[Hashable, Any] = {}
        self._lock = threading.Lock()

    def compile(
        self,
        expression: str,
        collection: Collection,
        lookup: CollectionLookup,
        request: RequestInfo,
        *,
        schema: object,
        table_alias: str = "main",
        dialect: SQLiteDialect = SQLITE,
    ) -> Sql:
        """``compile_filter(expression, ..., mode="rule", dialect=dialect)``; ``schema`` is an
        object that is replaced whenever any collection changes (the registry's tuple of
        collections)."""
        with self._lock:
            if schema is not self._schema or len(self._compiled) > self.MAX_ENTRIES:
                self._schema, self._reads, self._compiled = schema, {}, {}
            known, compiled = self._reads, self._compiled
        if expression in known:
            reads = known[expression]
        else:
            reads = known[expression] = _Reads.of(expression)
        key = None if reads is None else _key(reads, expression, collection, table_alias, request, dialect)
        if reads is None or key is None:
            return compile_filter(
                expression, collection, lookup, request, mode="rule", table_alias=table_alias, dialect=dialect
            )
        entry = compiled.get(key)
        if entry is None or (
            entry is not _UNCACHEABLE and (entry.fields is not collection.fields or entry.indexes is not collection.indexes)
        ):
            entry = compiled[key] = _compile_with_markers(
                expression, collection, lookup, request, reads, table_alias, dialect
            )
        if entry is _UNCACHEABLE:
            return compile_filter(
                expression, collection, lookup, request, mode="rule", table_alias=table_alias, dialect=dialect
            )
        auth = request.auth or {}
        params = list(entry.sql.params)
        for position, name in entry.slots:
            params[position] = go_to_string(auth.get("id")) if name == "" else auth[name]
        return Sql(entry.sql.sql, params)


def _key(
    reads: _Reads,
    expression: str,
    collection: Collection,
    table_alias: str,
    request: RequestInfo,
    dialect: SQLiteDialect,
) -> Hashable | None:
    """Everything compiling ``expression`` reads of the request but its text values; None
    when that cannot be told apart from the values."""
    auth = request.auth
    if not auth:
        shape: Hashable = None
    else:
        values = []
        for name in reads.plain:
            value_shape = _shape(auth.get(name), resolving=name in _RESOLVING)
            if value_shape is _UNCACHEABLE or (value_shape == "text" and _is_number_field(collection, name)):
                return None  # a numeric text for a number field of the same name is bound as a number
            values.append((name, name in auth, value_shape))
        joined: Hashable = ()
        if reads.joins_auth:
            id_shape = _shape(auth.get("id"))
            if id_shape is _UNCACHEABLE:
                return None
            joined = (str(auth.get("collectionId") or ""), str(auth.get("collectionName") or ""), id_shape)
        shape = (tuple(values), joined)
    return (expression, id(collection), collection.id, table_alias, shape, dialect.name)


def _is_number_field(collection: Collection, name: str) -> bool:
    field = collection.field(name)
    return field is not None and field.type == "number"


def _compile_with_markers(
    expression: str,
    collection: Collection,
    lookup: CollectionLookup,
    request: RequestInfo,
    reads: _Reads,
    table_alias: str,
    dialect: SQLiteDialect,
) -> Any:
    """The rule compiled for a stand-in requester whose text values are markers, with where
    each marker is bound; ``_UNCACHEABLE`` when a marker was changed on its way."""
    auth: Mapping[str, Any] | None = request.auth
    markers: dict[str, str] = {}
    if auth:
        stand_in = dict(auth)
        for name in reads.plain:
            if name not in _RESOLVING and isinstance(auth.get(name), str) and auth[name]:
                stand_in[name] = f"{_MARKER}{name}"
                markers[stand_in[name]] = name
        if reads.joins_auth and "id" not in markers.values() and isinstance(auth.get("id"), str) and auth["id"]:
            stand_in["id"] = _MARKER  # the joined record's id: "" stands for go_to_string(auth["id"])
            markers[_MARKER] = ""
        auth = stand_in
    stand_in_request = RequestInfo(auth=auth, context=request.context, is_superuser=request.is_superuser)
    compiled = compile_filter(
        expression, collection, lookup, stand_in_request, mode="rule", table_alias=table_alias, dialect=dialect
    )
    slots: list[tuple[int, str]] = []
    for position, value in enumerate(compiled.params):
        if isinstance(value, str) and _MARKER in value:
            if value not in markers:
                return _UNCACHEABLE
            slots.append((position, markers[value]))
    if _MARKER in compiled.sql:
        return _UNCACHEABLE
    return _Compiled(Sql(compiled.sql, list(compiled.params)), tuple(slots), collection)
