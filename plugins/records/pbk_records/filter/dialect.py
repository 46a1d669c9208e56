"""Every piece of SQL text the filter compiler writes, for one SQL engine.

The compiler never spells SQL itself: it asks the dialect. Another engine (PostgreSQL, say)
is a new class with the same methods. All methods take SQL fragments the compiler built
(identifiers from the schema, generated aliases, ``?`` placeholders) and return SQL; no user
text ever passes through here.
"""

from __future__ import annotations

from collections.abc import Sequence

#: What an operand is, for engines with static types (see ``postgres.py``); SQLite ignores it.
#: ``text``/``num``/``bool``: a text, number or bool column (SQLite: TEXT / NUMERIC affinity);
#: ``jsoncol``: a JSON column used as a whole (multi-valued fields, geoPoint; NUMERIC affinity);
#: ``json``: a value extracted from JSON (any type); ``str``/``real``/``int``: a text, float or
#: integer without affinity (bound values, function results); ``null``; ``cond``: a condition.
KINDS = frozenset(("text", "num", "bool", "jsoncol", "json", "str", "real", "int", "null", "cond"))


class SQLiteDialect:
    """SQLite 3.45+ (JSON functions, ``iif``, math functions), as PocketBase 0.40 writes it."""

    name = "sqlite"
    #: whether comparisons need the operands' kinds (a statically typed engine)
    typed = False
    #: the one-row table an EXISTS subquery starts from before its LEFT JOINs
    one_row = "(SELECT 1)"
    true = "1"
    false = "0"
    null = "NULL"
    #: what a LEFT JOIN without a condition ends with (PostgreSQL needs ``ON TRUE``)
    no_condition = ""

    @staticmethod
    def quote(identifier: str) -> str:
        if "\x00" in identifier:
            raise ValueError("NUL in an SQL identifier")
        return '"' + identifier.replace('"', '""') + '"'

    def column(self, alias: str, column: str) -> str:
        return f"{alias}.{self.quote(column)}"

    def table(self, name: str) -> str:
        return self.quote(name)

    @staticmethod
    def _as_array(expr: str) -> str:
        return (
            f"CASE WHEN iif(json_valid({expr}), json_type({expr})='array', FALSE) "
            f"THEN {expr} ELSE json_array({expr}) END"
        )

    def json_each(self, expr: str, multiple: bool = True) -> str:
        """Rows of a JSON array column; a plain value counts as a one-item array."""
        return f"json_each({self._as_array(expr)})"

    #: the kind of ``each_item``
    each_kind = "str"

    @staticmethod
    def each_item(alias: str) -> str:
        """One item of ``json_each`` as an operand (``:each``); ``alias.value`` joins."""
        return f"{alias}.value"

    def json_each_value(self, marker: str) -> str:
        """Rows of a bound JSON array (``@request.body.x:each``)."""
        return f"json_each({marker})"

    def json_array_length(self, expr: str, multiple: bool = True) -> str:
        """Item count of a JSON array column; ``''`` and NULL count 0, a plain value 1."""
        return (
            f"json_array_length(CASE WHEN iif(json_valid({expr}), json_type({expr})='array', FALSE) "
            f"THEN {expr} ELSE (CASE WHEN {expr} = '' OR {expr} IS NULL THEN json_array() "
            f"ELSE json_array({expr}) END) END)"
        )

    def json_extract(self, expr: str, path_marker: str, wrapped_path_marker: str) -> str:
        """A JSON path of a column; a non-JSON value is treated as the JSON string it holds."""
        return (
            f"(CASE WHEN json_valid({expr}) THEN JSON_EXTRACT({expr}, {path_marker}) "
            f"ELSE JSON_EXTRACT(json_object('pb', {expr}), {wrapped_path_marker}) END)"
        )

    @staticmethod
    def param(marker: str, kind: str) -> str:
        """A bound value of ``kind`` (typed engines cast it; SQLite binds it as it is)."""
        return marker

    @staticmethod
    def lower(expr: str, kind: str = "text") -> str:
        return f"LOWER({expr})"

    @staticmethod
    def like(left: str, right: str, *, negate: bool, contains: bool) -> str:
        """``left [NOT] LIKE right ESCAPE '\\'``; ``contains`` wraps a column operand in ``%``."""
        op = "NOT LIKE" if negate else "LIKE"
        if contains:
            right = f"('%' || {right} || '%')"
        return f"{left} {op} {right} ESCAPE '\\'"

    @staticmethod
    def compare(left: str, op: str, right: str) -> str:
        return f"{left} {op} {right}"

    @staticmethod
    def coalesce_empty(expr: str) -> str:
        return f"COALESCE({expr}, '')"

    @staticmethod
    def geo_distance(lon_a: str, lat_a: str, lon_b: str, lat_b: str) -> str:
        """Haversine distance in km (clamped so rounding never leaves acos's domain)."""
        return (
            f"(6371 * acos(min(1, max(-1, cos(radians({lat_a})) * cos(radians({lat_b})) * "
            f"cos(radians({lon_b}) - radians({lon_a})) + sin(radians({lat_a})) * "
            f"sin(radians({lat_b}))))))"
        )

    @staticmethod
    def strftime(args: Sequence[str]) -> str:
        return f"strftime({','.join(args)})"

    @staticmethod
    def exists(joins: Sequence[str], where: str, *, negate: bool = False, base_alias: str) -> str:
        head = "NOT EXISTS" if negate else "EXISTS"
        from_ = " ".join([f"(SELECT 1) AS {base_alias}", *joins])
        return f"{head} (SELECT 1 FROM {from_} WHERE {where})"

    @staticmethod
    def left_join(table_sql: str, alias: str, on: str | None = None) -> str:
        return f"LEFT JOIN {table_sql} AS {alias}" + (f" ON {on}" if on else "")

    @staticmethod
    def multi_match_subquery(value: str, joins: Sequence[str], base_alias: str) -> str:
        from_ = " ".join([f"(SELECT 1) AS {base_alias}", *joins])
        return f"SELECT {value} AS mmv FROM {from_}"

    @staticmethod
    def not_exists_many_vs_one(subquery: str, alias: str, where: str) -> str:
        return f"NOT EXISTS (SELECT 1 FROM ({subquery}) AS {alias} WHERE {where})"

    def not_exists_many_vs_many(
        self, left_sub: str, l_alias: str, right_sub: str, r_alias: str, where: str
    ) -> str:
        return (
            f"NOT EXISTS (SELECT 1 FROM ({left_sub}) AS {l_alias} "
            f"LEFT JOIN ({right_sub}) AS {r_alias}{self.no_condition} WHERE {where})"
        )

    @staticmethod
    def in_list(expr: str, markers: Sequence[str]) -> str:
        return f"{expr} IN ({', '.join(markers)})"

    @staticmethod
    def random() -> str:
        return "RANDOM()"

    def rowid(self, alias: str) -> str:
        return f"{alias}._rowid_"

    @staticmethod
    def sort_keys(sql: str, kind: str) -> list[str]:
        """What to ORDER BY for ``sql``: itself (SQLite orders values of any type)."""
        return [sql]

    @staticmethod
    def order(keys: Sequence[str], direction: str) -> str:
        return f"{keys[0]} {direction}"  # sort_keys gives one

    @staticmethod
    def scalar_subquery(
        value: str, joins: Sequence[str], base_alias: str, aggregate: str | None
    ) -> str:
        """The first (or MIN/MAX) value of ``value`` over the joins, for ORDER BY."""
        from_ = " ".join([f"(SELECT 1) AS {base_alias}", *joins])
        if aggregate:
            return f"(SELECT {aggregate}({value}) FROM {from_})"
        return f"(SELECT {value} FROM {from_} LIMIT 1)"


SQLITE = SQLiteDialect()
