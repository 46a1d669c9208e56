"""The filter compiler's SQL for PostgreSQL 15+, over the table layout of docs/scale-out.md.

SQLite compares values of any type (NULL < numbers < texts, a number column turns a numeric
text into a number, a text column turns a number into text); PostgreSQL refuses to compare a
text with a number. So every comparison here gets the operands' *kinds* (see ``dialect.KINDS``)
and reproduces SQLite's rules: each operand becomes a :class:`_V`, a storage class (1 number,
2 text, or SQL computing it for a JSON value) with its value as a number and as a text, and
SQLite's affinity conversions are applied before comparing. Operands whose class is known
while compiling (columns, bound values) compare directly; only JSON values need ``CASE``.

Bound values are always cast (``CAST(? AS text)``): psycopg sends a Python ``str`` untyped.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .dialect import SQLiteDialect

_C = ' COLLATE "C"'
#: a text SQLite's NUMERIC affinity turns into a number; with fewer than 200 characters (checked
#: beside it) and a two-digit exponent the cast to double precision cannot overflow
_NUMERIC_TEXT = r"'^\s*[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]{1,2})?\s*$'"
_STATIC_NULL = "NULL"


@dataclass(frozen=True)
class _V:
    """An operand as SQLite sees it: ``cls`` 0 (NULL), 1 (number), 2 (text) or SQL giving
    1/2/NULL; ``num``/``txt`` its value as double precision / text; ``aff`` its affinity
    ("N", "T" or None); ``null`` SQL that is true when the value is NULL."""

    cls: int | str
    num: str
    txt: str
    aff: str | None
    null: str

    @property
    def static(self) -> bool:
        return isinstance(self.cls, int)

    def cls_sql(self) -> str:
        if isinstance(self.cls, str):
            return self.cls
        if self.cls == 0:
            return _STATIC_NULL
        return f"(CASE WHEN {self.null} THEN NULL ELSE {self.cls} END)"


def _real_text(x: str) -> str:
    """SQLite's text of a REAL: ``10.0``, ``7.25``."""
    return (
        f"(CASE WHEN {x} = floor({x}) AND abs({x}) < 1e15 "
        f"THEN CAST(CAST({x} AS bigint) AS text) || '.0' ELSE CAST({x} AS text) END)"
    )


def _json_number(j: str) -> str:
    """A JSON number as double precision, never an error: beyond the double range it is
    ±Infinity or 0 as in SQLite; an exponent of four or more digits is NULL."""
    text = f"CAST({j} AS text)"
    return (
        f"(CASE WHEN {text} !~ '[eE][+-]?[0-9]{{3}}' AND length({text}) < 200 "
        f"THEN CAST({text} AS double precision) "
        f"WHEN {text} !~ '[eE][+-]?[0-9]{{4}}' THEN (SELECT CASE "
        "WHEN abs(x) > 1.7976931348623157e308 THEN sign(x) * CAST('Infinity' AS double precision) "
        "WHEN abs(x) < 2.5e-324 THEN 0 ELSE CAST(x AS double precision) END "
        f"FROM (SELECT CAST({text} AS numeric) AS x) AS jn) END)"
    )


def _json_value(j: str) -> _V:
    t = f"json_typeof({j})"
    is_true = f"CAST({j} AS text) = 'true'"
    cls = (
        f"(CASE {t} WHEN 'number' THEN 1 WHEN 'boolean' THEN 1 "
        f"WHEN 'string' THEN 2 WHEN 'object' THEN 2 WHEN 'array' THEN 2 END)"
    )
    num = (
        f"(CASE {t} WHEN 'number' THEN {_json_number(j)} "
        f"WHEN 'boolean' THEN (CASE WHEN {is_true} THEN 1 ELSE 0 END) END)"
    )
    txt = (
        f"(CASE {t} WHEN 'string' THEN ({j} #>> '{{}}') "
        f"WHEN 'boolean' THEN (CASE WHEN {is_true} THEN '1' ELSE '0' END) "
        f"WHEN 'null' THEN NULL ELSE CAST({j} AS text) END)"
    )
    return _V(cls, num, txt, None, f"({cls} IS NULL)")


def value(sql: str, kind: str) -> _V:
    """``sql`` of ``kind`` as SQLite would see it."""
    null = f"({sql}) IS NULL"
    if kind == "text":
        return _V(2, "NULL", sql, "T", null)
    if kind == "str":
        return _V(2, "NULL", sql, None, null)
    if kind == "num":
        return _V(1, sql, f"CAST({sql} AS text)", "N", null)
    if kind in ("bool", "cond"):
        n = f"CAST({sql} AS integer)"
        return _V(1, n, f"CAST({n} AS text)", "N" if kind == "bool" else None, null)
    if kind == "int":
        n = {"TRUE": "1", "FALSE": "0"}.get(sql.upper(), sql)
        return _V(1, n, f"CAST({n} AS text)", None, f"({n}) IS NULL")
    if kind == "real":
        return _V(1, sql, _real_text(sql), None, null)
    if kind == "jsoncol":
        return _V(2, "NULL", f"CAST({sql} AS text)", "N", null)
    if kind == "json":
        return _json_value(sql)
    if kind == "null":
        return _V(0, "NULL", "NULL", None, "TRUE")
    raise ValueError(f"unknown operand kind {kind!r}")  # pragma: no cover - compiler bug


def _numeric_affinity(v: _V) -> _V:
    """A text that looks like a number becomes that number (SQLite's NUMERIC affinity)."""
    if v.cls in (0, 1):
        return v
    looks = f"({v.txt} ~ {_NUMERIC_TEXT} AND length({v.txt}) < 200)"
    as_num = f"(CASE WHEN {looks} THEN CAST({v.txt} AS double precision) END)"
    if v.cls == 2:
        cls = f"(CASE WHEN {v.null} THEN NULL WHEN {looks} THEN 1 ELSE 2 END)"
        return _V(cls, as_num, v.txt, "N", v.null)
    cls = f"(CASE WHEN {v.cls} = 2 AND {looks} THEN 1 ELSE {v.cls} END)"
    num = f"(CASE WHEN {v.cls} = 2 THEN {as_num} ELSE {v.num} END)"
    return _V(cls, num, v.txt, "N", v.null)


def _text_affinity(v: _V) -> _V:
    """A number becomes its text (SQLite's TEXT affinity)."""
    if v.cls in (0, 2):
        return v
    if v.cls == 1:
        return _V(2, "NULL", v.txt, "T", v.null)
    return _V(f"(CASE WHEN {v.cls} = 1 THEN 2 ELSE {v.cls} END)", v.num, v.txt, "T", v.null)


def _affinity(a: _V, b: _V) -> tuple[_V, _V]:
    if a.aff == "N" and b.aff != "N":
        return a, _numeric_affinity(b)
    if b.aff == "N" and a.aff != "N":
        return _numeric_affinity(a), b
    if a.aff == "T" and b.aff is None:
        return a, _text_affinity(b)
    if b.aff == "T" and a.aff is None:
        return _text_affinity(a), b
    return a, b


_ORDER = {
    "=": lambda x, y: x == y,
    "<": lambda x, y: x < y,
    "<=": lambda x, y: x <= y,
    ">": lambda x, y: x > y,
    ">=": lambda x, y: x >= y,
}


def _text_cmp(x: str, op: str, y: str) -> str:
    if op == "=":
        return f"{x} = {y}"
    return f"({x}){_C} {op} {y}"


def _compare(a: _V, op: str, b: _V) -> str:
    """``a op b`` with SQLite's rules (NULL if either is NULL); ``op`` is ``=`` or an order."""
    a, b = _affinity(a, b)
    if a.cls == 0 or b.cls == 0:
        return "NULL"
    if a.static and b.static:
        if a.cls == b.cls == 1:
            return f"{a.num} {op} {b.num}"
        if a.cls == b.cls == 2:
            return _text_cmp(a.txt, op, b.txt)
        outcome = "TRUE" if _ORDER[op](a.cls, b.cls) else "FALSE"
        return f"(CASE WHEN {a.null} OR {b.null} THEN NULL ELSE {outcome} END)"
    ca, cb = a.cls_sql(), b.cls_sql()
    return (
        f"(CASE WHEN {ca} IS NULL OR {cb} IS NULL THEN NULL WHEN {ca} <> {cb} THEN {ca} {op} {cb} "
        f"WHEN {ca} = 1 THEN {a.num} {op} {b.num} ELSE {_text_cmp(a.txt, op, b.txt)} END)"
    )


def _is(a: _V, b: _V) -> str:
    """SQLite's ``a IS b``: never NULL."""
    a, b = _affinity(a, b)
    if a.cls == 0:
        return f"({b.null})"
    if b.cls == 0:
        return f"({a.null})"
    if a.static and b.static:
        if a.cls == b.cls == 1:
            return f"{a.num} IS NOT DISTINCT FROM {b.num}"
        if a.cls == b.cls == 2:
            return f"{a.txt} IS NOT DISTINCT FROM {b.txt}"
        return f"({a.null} AND {b.null})"
    ca, cb = a.cls_sql(), b.cls_sql()
    return (
        f"(CASE WHEN {ca} IS NULL OR {cb} IS NULL THEN ({ca} IS NULL AND {cb} IS NULL) "
        f"WHEN {ca} <> {cb} THEN FALSE WHEN {ca} = 1 THEN {a.num} = {b.num} "
        f"ELSE {a.txt} = {b.txt} END)"
    )


def _coalesce_empty(v: _V) -> _V:
    """``COALESCE(v, '')`` (no affinity left, as in SQLite)."""
    if v.cls == 0:
        return value("''", "str")
    txt = f"COALESCE({v.txt}, '')"
    if v.cls == 2:
        return _V(2, "NULL", txt, None, "FALSE")
    return _V(f"COALESCE({v.cls_sql()}, 2)", v.num, txt, None, "FALSE")


# -- strftime ---------------------------------------------------------------------------------

#: SQLite strftime codes -> SQL over ``ts`` (a UTC timestamp); templates are constants
_FORMATS: dict[str, str] = {
    "d": "to_char(ts, 'DD')",
    "e": "lpad(to_char(ts, 'FMDD'), 2, ' ')",
    "f": "to_char(ts, 'SS.MS')",
    "F": "to_char(ts, 'YYYY-MM-DD')",
    "H": "to_char(ts, 'HH24')",
    "I": "to_char(ts, 'HH12')",
    "j": "to_char(ts, 'DDD')",
    "J": "rtrim(rtrim(CAST(round(floor(extract(epoch FROM ts) * 1000) / 86400000 + 2440587.5, 9) "
    "AS text), '0'), '.')",
    "k": "lpad(to_char(ts, 'FMHH24'), 2, ' ')",
    "l": "lpad(to_char(ts, 'FMHH12'), 2, ' ')",
    "m": "to_char(ts, 'MM')",
    "M": "to_char(ts, 'MI')",
    "p": "to_char(ts, 'AM')",
    "P": "lower(to_char(ts, 'AM'))",
    "R": "to_char(ts, 'HH24:MI')",
    "s": "CAST(CAST(floor(extract(epoch FROM ts)) AS bigint) AS text)",
    "S": "to_char(ts, 'SS')",
    "T": "to_char(ts, 'HH24:MI:SS')",
    "u": "CAST(extract(isodow FROM ts) AS integer)::text",
    "w": "CAST(extract(dow FROM ts) AS integer)::text",
    "W": "lpad(CAST((CAST(extract(doy FROM ts) AS integer) + 6 - "
    "(CAST(extract(dow FROM ts) AS integer) + 6) % 7) / 7 AS text), 2, '0')",
    "U": "lpad(CAST((CAST(extract(doy FROM ts) AS integer) + 6 - "
    "CAST(extract(dow FROM ts) AS integer)) / 7 AS text), 2, '0')",
    "V": "to_char(ts, 'IW')",
    "G": "to_char(ts, 'IYYY')",
    "g": "to_char(ts, 'IY')",
    "Y": "to_char(ts, 'YYYY')",
}
#: SQLite's time value forms pbk understands: ``YYYY-MM-DD[( |T)HH:MM[:SS[.SSS]]][Z|±HH:MM]``
#: (and ``HH:MM[:SS[.SSS]]``, a time on 2000-01-01)
_TIME_RE = (
    r"'^([0-9]{4})-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"
    r"(?:[ T]([01][0-9]|2[0-4]):([0-5][0-9])(?::([0-5][0-9](?:\.[0-9]+)?))?)?\s*"
    r"(?:[zZ]|([+-])([01][0-9]|2[0-3]):([0-5][0-9]))?\s*$'"
)
_MODIFIER_RE = re.compile(
    r"\s*([+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))\s+(day|hour|minute|second|month|year)s?\s*",
    re.IGNORECASE | re.ASCII,
)
_CLOCK_RE = re.compile(r"\s*([+-])([0-9]{2}):([0-9]{2})(?::([0-9]{2}(?:\.[0-9]+)?))?\s*", re.ASCII)
_SECONDS = {"day": 86400, "hour": 3600, "minute": 60, "second": 1}
#: the most one modifier may move a time (about 4400 years): from any time pbk keeps (years 1
#: to 9999) the result stays within PostgreSQL's timestamps, so no modifier can fail
_MAX_SECONDS = 1.4e11
_MAX_MONTHS = 53_000
_STARTS = {"start of day": "day", "start of month": "month", "start of year": "year"}


def _parse_time_text(t: str) -> str:
    """A timestamp (UTC) from a text SQLite's strftime accepts, NULL otherwise (never an error:
    out-of-range days roll over as in SQLite; year 0 is dropped by WHERE, and ``greatest``
    keeps make_timestamp valid even when PostgreSQL folds a constant before filtering)."""
    return (
        "(SELECT make_timestamp(greatest(CAST(m[1] AS integer), 1), 1, 1, 0, 0, 0) + make_interval("
        "months => CAST(m[2] AS integer) - 1, days => CAST(m[3] AS integer) - 1, "
        "hours => COALESCE(CAST(m[4] AS integer), 0), mins => COALESCE(CAST(m[5] AS integer), 0), "
        "secs => COALESCE(CAST(m[6] AS double precision), 0)) "
        "- (CASE m[7] WHEN '+' THEN 1 WHEN '-' THEN -1 ELSE 0 END) * make_interval("
        "hours => COALESCE(CAST(m[8] AS integer), 0), mins => COALESCE(CAST(m[9] AS integer), 0)) "
        f"FROM regexp_match((CASE WHEN {t} ~ '^[0-9]{{2}}:[0-9]{{2}}' THEN '2000-01-01 ' || {t} "
        f"ELSE {t} END), {_TIME_RE}) AS r(m) WHERE CAST(m[1] AS integer) > 0)"
    )


def _in_range(ts: str) -> str:
    """``ts`` when it is within years 1 to 9999 (SQLite's range, less year 0), else NULL."""
    return (
        "(SELECT CASE WHEN t >= timestamp '0001-01-01' AND t < timestamp '10000-01-01' "
        f"THEN t END FROM (SELECT {ts} AS t) AS rg)"
    )


def _julian_day(n: str) -> str:
    """A Julian day number as a timestamp, from year 1 to 9999 (NULL outside)."""
    return (
        f"(CASE WHEN {n} >= 1721425.5 AND {n} < 5373484.5 THEN "
        f"timestamp '2000-01-01 12:00:00' + ({n} - 2451545.0) * interval '1 day' END)"
    )


class PostgresDialect(SQLiteDialect):
    """PostgreSQL 15+ over pbk's layout: TEXT COLLATE "C", DOUBLE PRECISION, BOOLEAN, json."""

    name = "postgresql"
    typed = True
    no_condition = " ON TRUE"

    # -- values ---------------------------------------------------------------------------

    @staticmethod
    def param(marker: str, kind: str) -> str:
        """A bound value of ``kind`` (``str``, ``real``, ``int`` or ``json``)."""
        sql_type = {"str": "text", "real": "double precision", "int": "bigint", "json": "json"}
        return f"CAST({marker} AS {sql_type[kind]})"

    @staticmethod
    def text_of(sql: str, kind: str) -> str:
        """The text SQLite makes of a value (for LIKE, LOWER)."""
        return value(sql, kind).txt

    def lower(self, expr: str, kind: str = "text") -> str:
        return f"lower(({self.text_of(expr, kind)}){_C})"

    # -- comparisons ------------------------------------------------------------------------

    @staticmethod
    def compare_typed(left: str, left_kind: str, op: str, right: str, right_kind: str) -> str:
        """``left op right`` for ``=``, ``IS``, ``IS NOT``, ``<``, ``<=``, ``>``, ``>=``
        (``!=`` is written ``IS NOT`` by the compiler)."""
        a, b = value(left, left_kind), value(right, right_kind)
        if op == "IS":
            return _is(a, b)
        if op == "IS NOT":
            return f"NOT {_is(a, b)}"
        return _compare(a, op, b)

    @staticmethod
    def coalesce_compare(left: str, left_kind: str, op: str, right: str, right_kind: str) -> str:
        """``COALESCE(left, '') op COALESCE(right, '')``."""
        a = _coalesce_empty(value(left, left_kind))
        b = _coalesce_empty(value(right, right_kind))
        if op == "IS NOT":
            return f"NOT {_is(a, b)}"
        return _compare(a, op, b)

    def like_typed(
        self, left: str, left_kind: str, right: str, right_kind: str, *, negate: bool, contains: bool
    ) -> str:
        """SQLite's LIKE: ASCII-only case folding, ``\\`` escapes; a pattern ending in a lone
        escape matches nothing (PostgreSQL would fail)."""
        lhs = f"lower(({self.text_of(left, left_kind)}){_C})"
        pattern = self.text_of(right, right_kind)
        if contains:
            expr = f"{lhs} LIKE lower(('%' || {pattern} || '%'){_C}) ESCAPE '\\'"
        else:
            expr = (
                f"(CASE WHEN {pattern} ~ '(^|[^\\\\])(\\\\\\\\)*\\\\$' "
                f"THEN (CASE WHEN {lhs} IS NOT NULL THEN FALSE END) "
                f"ELSE {lhs} LIKE lower(({pattern}){_C}) ESCAPE '\\' END)"
            )
        return f"NOT ({expr})" if negate else expr

    # -- JSON -----------------------------------------------------------------------------

    @staticmethod
    def _as_array(expr: str) -> str:
        return f"(CASE WHEN json_typeof({expr}) = 'array' THEN {expr} ELSE json_build_array({expr}) END)"

    each_kind = "json"

    def json_each(self, expr: str, multiple: bool = True) -> str:
        """Rows of a JSON array column, or of a single value: ``value`` (the item as text, for
        joins on ids) and ``item`` (the JSON item, typed as SQLite's json_each types it)."""
        array = self._as_array(expr) if multiple else f"json_build_array({expr})"
        return (
            f"LATERAL (SELECT e.v #>> '{{}}' AS value, e.v AS item "
            f"FROM json_array_elements({array}) AS e(v))"
        )

    @staticmethod
    def each_item(alias: str) -> str:
        return f"{alias}.item"

    def json_each_value(self, marker: str) -> str:
        return self.json_each(self.param(marker, "json"))

    def json_array_length(self, expr: str, multiple: bool = True) -> str:
        if not multiple:
            return f"(CASE WHEN {expr} IS NULL OR {expr} = '' THEN 0 ELSE 1 END)"
        return (
            f"(CASE WHEN {expr} IS NULL THEN 0 WHEN json_typeof({expr}) = 'array' "
            f"THEN json_array_length({expr}) ELSE 1 END)"
        )

    def json_path(self, expr: str, steps: Sequence[tuple[str, bool]]) -> str:
        """``expr -> key -> index ...``: ``steps`` are (bound marker, is an array index)."""
        for marker, index in steps:
            key = f"CAST({marker} AS integer)" if index else self.param(marker, "str")
            expr = f"({expr} -> {key})"
        return expr

    # -- functions ------------------------------------------------------------------------

    def geo_distance_typed(self, args: Sequence[tuple[str, str]]) -> str:
        lon_a, lat_a, lon_b, lat_b = (self._number(sql, kind) for sql, kind in args)
        cosine = (
            f"cos(radians({lat_a})) * cos(radians({lat_b})) * cos(radians({lon_b}) - "
            f"radians({lon_a})) + sin(radians({lat_a})) * sin(radians({lat_b}))"
        )
        # clamped with CASE: least/greatest skip NULLs, SQLite's min/max answer NULL
        return (
            "(SELECT 6371 * acos(CASE WHEN c > 1 THEN 1 WHEN c < -1 THEN -1 ELSE c END) "
            f"FROM (SELECT {cosine} AS c) AS g)"
        )

    @staticmethod
    def _number(sql: str, kind: str) -> str:
        """A value as SQLite's math functions take it (a non-numeric text is NULL)."""
        v = _numeric_affinity(value(sql, kind))
        if v.cls == 1:
            return v.num
        if v.cls in (0, 2):
            return "CAST(NULL AS double precision)"
        return f"(CASE WHEN {v.cls} = 1 THEN {v.num} END)"

    def strftime_typed(
        self,
        fmt: str,
        time: tuple[str, str] | None,
        modifiers: Sequence[str],
        bind: Callable[[object], str],
    ) -> str:
        """SQLite's ``strftime(fmt, time, modifiers...)``; ``fmt`` and ``modifiers`` are the
        (bound) texts, known while compiling; literal parts of ``fmt`` are bound again."""
        ts = self._time(time, modifiers, bind)
        if ts is None:
            return "CAST(NULL AS text)"
        pieces: list[str] = []
        literal: list[str] = []
        i = 0
        while i < len(fmt):
            ch = fmt[i]
            if ch != "%":
                literal.append(ch)
                i += 1
                continue
            code = fmt[i + 1] if i + 1 < len(fmt) else ""
            i += 2
            if code == "%":
                literal.append("%")
                continue
            if code not in _FORMATS:
                return "CAST(NULL AS text)"  # SQLite: an unknown conversion is NULL
            if literal:
                pieces.append(self.param(bind("".join(literal)), "str"))
                literal = []
            pieces.append(_FORMATS[code])
        if literal:
            pieces.append(self.param(bind("".join(literal)), "str"))
        body = " || ".join(pieces) or "''"
        return f"(SELECT CASE WHEN ts IS NULL THEN NULL ELSE {body} END FROM (SELECT {ts} AS ts) AS s)"

    def _time(
        self, time: tuple[str, str] | None, modifiers: Sequence[str], bind: Callable[[object], str]
    ) -> str | None:
        now = "CAST(now() AT TIME ZONE 'UTC' AS timestamp)"
        mods = [m.strip().lower() for m in modifiers]
        if time is None:
            ts = now
        else:
            sql, kind = time
            if kind == "null":
                return None
            v = value(sql, kind)
            if mods and mods[0] == "unixepoch":
                mods = mods[1:]
                secs = self._number(sql, kind)
                ts = (
                    f"(CASE WHEN {secs} >= -62135596800 AND {secs} < 253402300800 "
                    f"THEN CAST(to_timestamp({secs}) AT TIME ZONE 'UTC' AS timestamp) END)"
                )
            elif v.cls == 1:
                ts = _julian_day(v.num)
            else:
                t = v.txt
                number = f"(CASE WHEN {t} ~ {_NUMERIC_TEXT} AND length({t}) < 200 THEN CAST({t} AS double precision) END)"
                ts = (
                    f"(CASE WHEN lower(trim({t})) = 'now' THEN {now} "
                    f"WHEN {t} ~ {_NUMERIC_TEXT} THEN {_julian_day(number)} "
                    f"ELSE {_parse_time_text(t)} END)"
                )
                if not v.static:
                    ts = f"(CASE WHEN {v.cls} = 1 THEN {_julian_day(v.num)} ELSE {ts} END)"
        for mod in mods:
            if mod in ("utc", "localtime", "ceiling"):
                continue  # pbk runs in UTC; month arithmetic rolls over as "ceiling" asks
            clock = _CLOCK_RE.fullmatch(mod)
            if clock:
                sign, hours, minutes, seconds = clock.groups()
                amount = int(hours) * 3600 + int(minutes) * 60 + float(seconds or 0)
                n = self.param(bind(-amount if sign == "-" else amount), "real")
                ts = _in_range(f"({ts} + {n} * interval '1 second')")
                continue
            if mod in _STARTS:
                ts = f"date_trunc('{_STARTS[mod]}', {ts})"
                continue
            if mod.startswith("weekday "):
                day = mod[8:].strip()
                if not (day.isascii() and day.isdigit() and int(day) < 7):
                    return None
                n = self.param(bind(int(day)), "int")
                ts = (
                    f"(SELECT t + ((({n} - CAST(extract(dow FROM t) AS integer)) % 7 + 7) % 7) "
                    f"* interval '1 day' FROM (SELECT {ts} AS t) AS w)"
                )
                continue
            match = _MODIFIER_RE.fullmatch(mod)
            if not match:
                return None  # SQLite: an unknown modifier is NULL
            amount, unit = float(match.group(1)), match.group(2).lower()
            if unit in _SECONDS:
                if abs(amount * _SECONDS[unit]) > _MAX_SECONDS:
                    return None
                n = self.param(bind(amount * _SECONDS[unit]), "real")
                ts = _in_range(f"({ts} + {n} * interval '1 second')")
            else:
                if abs(amount) * 12 > _MAX_MONTHS:
                    return None
                whole = math.trunc(amount)
                n = self.param(bind(whole * (12 if unit == "year" else 1)), "int")
                # to the 1st, add the months, then the days back: Jan 31 + 1 month = Mar 2/3
                ts = _in_range(
                    f"(SELECT date_trunc('month', t) + {n} * interval '1 month' "
                    f"+ (t - date_trunc('month', t)) FROM (SELECT {ts} AS t) AS mo)"
                )
                if amount != whole:  # SQLite: a fraction of a month is 30 days, of a year 365
                    days = (amount - whole) * (365 if unit == "year" else 30)
                    n = self.param(bind(days * 86400), "real")
                    ts = _in_range(f"({ts} + {n} * interval '1 second')")
        return _in_range(ts)

    # -- joins and ordering ---------------------------------------------------------------

    @staticmethod
    def left_join(table_sql: str, alias: str, on: str | None = None) -> str:
        return f"LEFT JOIN {table_sql} AS {alias} ON {on or 'TRUE'}"

    def rowid(self, alias: str) -> str:
        return f"{alias}.rowid"

    @staticmethod
    def sort_keys(sql: str, kind: str) -> list[str]:
        """What to ORDER BY for SQLite's order of ``sql`` (NULL < numbers < texts, bytes)."""
        v = value(sql, kind)
        if v.cls == 1:
            return [v.num]
        if v.cls == 2:
            return [f"({v.txt}){_C}"]
        if v.cls == 0:
            return ["NULL"]
        return [v.cls_sql(), v.num, f"({v.txt}){_C}"]

    @staticmethod
    def order(keys: Sequence[str], direction: str) -> str:
        nulls = "NULLS FIRST" if direction == "ASC" else "NULLS LAST"
        return ", ".join(f"{k} {direction} {nulls}" for k in keys)


POSTGRES = PostgresDialect()
