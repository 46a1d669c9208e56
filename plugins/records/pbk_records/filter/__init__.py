"""PocketBase's filter and API-rule language: one parser, one compiler, parameterised SQL.

Public API::

    parse(expression: str) -> Group
        Parse (cached) a filter or rule; FilterError (an ApiError, 400) when invalid.

    compile_filter(expression, collection, lookup, request, *, mode="filter"|"rule",
                   table_alias="main", and_rule=None, now=None, params=None) -> Sql
        A WHERE-able condition on ``<collection table> AS table_alias``. Relations, back-
        relations, @collection joins and multi-valued fields become correlated EXISTS /
        NOT EXISTS subqueries, so the condition can be used as
        ``SELECT … FROM t AS main WHERE <sql>`` or ``… WHERE main.id = ? AND (<sql>)``.

    compile_rule(expression, collection, lookup, request, *, table_alias="main") -> Sql
        compile_filter(mode="rule").

    compile_sort(sort, collection, lookup, request, *, table_alias="main") -> Sql
        The ``?sort`` parameter as an ORDER BY list ("" when empty). ``result.where``, when
        not None, must be ANDed into WHERE: a non-superuser sorting through a relation only
        sees records whose related record they may list (PocketBase's behaviour).

    RequestInfo(auth, body, query, headers, method, context, is_superuser)
        What ``@request.*`` sees.

    Sql(sql, params, where=None)
        ``sql`` uses ``?`` placeholders; ``params`` are the bound values in order.

    CollectionLookup
        ``lookup(name_or_id) -> Collection | None`` (names case-insensitive).

Errors are FilterError(ApiError): 400 "Something went wrong while processing your request."
for anything invalid; 403 "Only superusers can filter by @collection." / "… by @request."
for a non-superuser ``?filter`` or ``?sort`` that mentions them. ``FilterError.detail``
says what was wrong (never sent to clients).

    dialect_for(engine) -> SQLiteDialect
        The SQL dialect for ``Database.engine`` ("sqlite" or "postgresql"); pass it as
        ``dialect=`` to the functions above (SQLite's is the default).

The language, its semantics and limits: README.md beside this file.
"""

from .compiler import (
    FORBIDDEN_COLLECTION,
    FORBIDDEN_REQUEST,
    MAX_NESTED_RELATIONS,
    MAX_SORT_FIELDS,
    CollectionLookup,
    Mode,
    RequestInfo,
    Sql,
    check_forbidden,
    compile_filter,
    compile_rule,
    compile_sort,
    has_unique_index,
    is_multiple,
)
from .dialect import SQLITE, SQLiteDialect
from .macros import MACROS, format_datetime, macro_value
from .parser import (
    MAX_EXPRESSIONS,
    MAX_LENGTH,
    MAX_NESTING,
    Comparison,
    FilterError,
    Group,
    Node,
    Operand,
    parse,
)
from .postgres import POSTGRES, PostgresDialect

_DIALECTS = {"sqlite": SQLITE, "postgresql": POSTGRES}


def dialect_for(engine: str) -> SQLiteDialect:
    """The dialect for a database engine (``Database.engine``); ValueError for another."""
    try:
        return _DIALECTS[engine]
    except KeyError:
        raise ValueError(f"no filter dialect for the {engine!r} database engine") from None


__all__ = [
    "FORBIDDEN_COLLECTION",
    "FORBIDDEN_REQUEST",
    "MACROS",
    "MAX_EXPRESSIONS",
    "MAX_LENGTH",
    "MAX_NESTED_RELATIONS",
    "MAX_NESTING",
    "MAX_SORT_FIELDS",
    "POSTGRES",
    "SQLITE",
    "CollectionLookup",
    "Comparison",
    "FilterError",
    "Group",
    "Mode",
    "Node",
    "Operand",
    "PostgresDialect",
    "RequestInfo",
    "SQLiteDialect",
    "Sql",
    "check_forbidden",
    "compile_filter",
    "compile_rule",
    "compile_sort",
    "dialect_for",
    "format_datetime",
    "has_unique_index",
    "is_multiple",
    "macro_value",
    "parse",
]
