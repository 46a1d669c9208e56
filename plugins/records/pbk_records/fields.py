"""PocketBase 0.40's built-in collection field types.

One class per type (``text`` ... ``geoPoint``), each a ``pbk_sdk.fields.BaseFieldType``, plus
``BUILTIN_FIELD_TYPES`` (type name → instance) and ``complete_field`` (fill a posted field JSON
the way PocketBase does before storing it).

Everything here was checked against the PocketBase 0.40.6 binary: the lenient input coercion
(Go's ``spf13/cast`` rules, ``strconv.ParseFloat`` syntax, ``cast.ToTime`` date layouts), the
validation codes, messages and params, the option defaults and the option checks of a
collection create. The Go parts PocketBase relies on are re-implemented in the first half of
this module:

* number formatting as Go prints it (``strconv`` ``'f'``/``'g'`` shortest, ``encoding/json``);
* ``strconv.ParseFloat`` (``"1_000"``, ``"0x1p4"``, ``"5."``, ``"inf"`` ...);
* ``time.Parse`` for the layouts ``cast.ToTime`` tries, with its quirks (named zones keep the
  wall clock, ``GMT+3`` shifts it, ``3:04PM`` is a date in year 0 ...);
* Go's RE2 regexp syntax: a parser that reports Go's exact syntax errors, translates patterns
  to Python ``re`` (``$`` is end of text, ``\\d``/``\\w``/``\\s``/``\\b`` are ASCII) and drives
  ``generate_from_pattern`` like PocketBase's ``security.RandomStringByRegex``;
* ``govalidator.IsEmail`` / ``IsURL`` (rewritten so that Python's backtracking stays linear on
  hostile input) and ``ozzo-validation``'s ``is.Domain``.
"""

from __future__ import annotations

import json
import math
import re
import secrets
import unicodedata
import zlib
from collections.abc import Callable, Mapping
from decimal import Decimal
from functools import lru_cache
from typing import Any, ClassVar

import orjson
from pbk_sdk.errors import FieldError
from pbk_sdk.fields import REQUIRED, BaseFieldType

__all__ = [
    "BUILTIN_FIELD_TYPES",
    "FieldFormatError",
    "GoRegexError",
    "complete_field",
    "generate_from_pattern",
    "go_regex_match",
    "parse_datetime",
]

#: ``maxSafeJSONInt`` of PocketBase's option checks.
MAX_SAFE_JSON_INT = 2**53 - 1
TEXT_DEFAULT_MAX = 5000
EDITOR_DEFAULT_MAX_SIZE = 5 << 20
JSON_DEFAULT_MAX_SIZE = 1 << 20
PASSWORD_DEFAULT_MAX = 71
BCRYPT_MAX_BYTES = 72
ZERO_GEO_POINT = {"lon": 0, "lat": 0}


def _err(code: str, message: str, params: Mapping[str, Any] | None = None) -> FieldError:
    return FieldError(code, message, params)


def _required() -> FieldError:
    return FieldError(*REQUIRED)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


# =========================================================================== Go numbers


def _shortest_digits(f: float) -> tuple[str, int]:
    """Shortest round-trip digits of ``abs(f)`` (non-zero, finite) and the decimal point
    position: ``abs(f) == 0.DIGITS × 10**dp``."""
    mant, _, exp = repr(abs(f)).partition("e")
    whole, _, frac = mant.partition(".")
    digits = whole + frac
    dp = len(whole) + (int(exp) if exp else 0)
    stripped = digits.lstrip("0")
    dp -= len(digits) - len(stripped)
    return stripped.rstrip("0"), dp


def _go_special(f: float) -> str | None:
    if math.isnan(f):
        return "NaN"
    if math.isinf(f):
        return "+Inf" if f > 0 else "-Inf"
    return None


def _fixed(digits: str, dp: int) -> str:
    if dp <= 0:
        return "0." + "0" * -dp + digits
    if dp >= len(digits):
        return digits + "0" * (dp - len(digits))
    return digits[:dp] + "." + digits[dp:]


def _exponent(digits: str, dp: int, min_exp_digits: int = 2) -> str:
    exp = dp - 1
    mant = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
    return f"{mant}e{'-' if exp < 0 else '+'}{abs(exp):0{min_exp_digits}d}"


def go_ftoa(f: float) -> str:
    """``strconv.FormatFloat(f, 'f', -1, 64)`` (what ``cast.ToString`` does to numbers)."""
    special = _go_special(f)
    if special:
        return special
    sign = "-" if math.copysign(1.0, f) < 0 else ""
    if f == 0:
        return sign + "0"
    return sign + _fixed(*_shortest_digits(f))


def go_sprint(value: Any) -> str:
    """``fmt.Sprint`` of an int or float64 (``%v``): shortest digits, exponent form when the
    exponent is < -4 or >= 6 (``1e+06``, ``1.2345675e+06``, ``1e-05``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    f = float(value)
    special = _go_special(f)
    if special:
        return special
    sign = "-" if math.copysign(1.0, f) < 0 else ""
    if f == 0:
        return sign + "0"
    digits, dp = _shortest_digits(f)
    if dp - 1 < -4 or dp - 1 >= 6:
        return sign + _exponent(digits, dp)
    return sign + _fixed(digits, dp)


def go_json_float(f: float) -> str:
    """A float64 as Go's ``encoding/json`` writes it (``1e-7``, ``0.000001``, ``1e+21``)."""
    if f == 0:
        return "-0" if math.copysign(1.0, f) < 0 else "0"
    sign = "-" if f < 0 else ""
    digits, dp = _shortest_digits(f)
    if abs(f) < 1e-6 or abs(f) >= 1e21:
        text = _exponent(digits, dp)
        if text[-3:-1] == "-0":  # e-07 -> e-7
            text = text[:-2] + text[-1]
        return sign + text
    return sign + _fixed(digits, dp)


#: Every integer up to this magnitude is a float64 exactly.
EXACT_FLOAT_INT = 2**53


def go_number(value: Any) -> Any:
    """The Python value of a float64 as PocketBase outputs it: integral values become ints
    with Go's digits (``1.0`` → ``1``, ``1.2345678901234567e19`` → ``12345678901234567000``)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return value
    if isinstance(value, int):
        if -EXACT_FLOAT_INT <= value <= EXACT_FLOAT_INT:
            return value  # a float64 holds it exactly: Go prints these very digits
        try:
            value = float(value)
        except OverflowError:
            return value
    if math.isfinite(value) and value.is_integer() and -(2**63) <= value < 2**64:
        if -EXACT_FLOAT_INT <= value <= EXACT_FLOAT_INT:
            return int(value)
        return int(Decimal(repr(value)))  # Go's shortest digits, then zeros
    return value


# --------------------------------------------------------------------------- ParseFloat

_DEC_FLOAT = re.compile(r"[+-]?(?:[0-9_]+(?:\.[0-9_]*)?|\.[0-9_]+)(?:[eE][+-]?[0-9_]+)?")
_HEX_FLOAT = re.compile(
    r"[+-]?0[xX](?:[0-9a-fA-F_]+(?:\.[0-9a-fA-F_]*)?|\.[0-9a-fA-F_]+)[pP][+-]?[0-9_]+"
)
_SPECIAL_FLOAT = re.compile(r"(?i)([+-]?)(inf|infinity)|(nan)")


def _underscore_ok(s: str) -> bool:
    """Go's ``strconv.underscoreOK``: ``_`` only between digits (or after a base prefix)."""
    saw = "^"
    i = 0
    if s[:1] in ("+", "-"):
        s = s[1:]
    hexa = False
    if len(s) >= 2 and s[0] == "0" and s[1].lower() in "box":
        i = 2
        saw = "0"
        hexa = s[1].lower() == "x"
    while i < len(s):
        c = s[i]
        if "0" <= c <= "9" or (hexa and "a" <= c.lower() <= "f"):
            saw = "0"
        elif c == "_":
            if saw != "0":
                return False
            saw = "_"
        else:
            if saw == "_":
                return False
            saw = "!"
        i += 1
    return saw != "_"


def parse_go_float(s: str) -> float | None:
    """``strconv.ParseFloat(s, 64)``: the value, or None on a syntax or range error."""
    special = _SPECIAL_FLOAT.fullmatch(s)
    if special:
        if special.group(3):
            return math.nan
        return -math.inf if special.group(1) == "-" else math.inf
    if _HEX_FLOAT.fullmatch(s):
        if "_" in s and not _underscore_ok(s):
            return None
        try:
            return float.fromhex(s.replace("_", ""))
        except (OverflowError, ValueError):
            return None
    if _DEC_FLOAT.fullmatch(s):
        if "_" in s and not _underscore_ok(s):
            return None
        value = float(s.replace("_", ""))
        return None if math.isinf(value) else value
    return None


# --------------------------------------------------------------------------- spf13/cast


def cast_to_string(value: Any) -> str:
    """``cast.ToString`` of a decoded JSON value (numbers arrive as float64)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        try:
            return go_ftoa(float(value))
        except OverflowError:
            return str(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return ""


def cast_to_float(value: Any) -> float:
    """``cast.ToFloat64``: numbers, ``true`` → 1, Go-syntax numeric strings, else 0."""
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, (int, float)):
        try:
            return float(value)
        except OverflowError:
            return 0.0
    if isinstance(value, str):
        parsed = parse_go_float(value)
        return 0.0 if parsed is None else parsed
    return 0.0


_TRUE_STRINGS = frozenset(("1", "t", "T", "TRUE", "true", "True"))


def cast_to_bool(value: Any) -> bool:
    """``cast.ToBool``: ``strconv.ParseBool`` for strings (``"yes"`` is false), non-zero numbers."""
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return value != 0
    if isinstance(value, str):
        return value in _TRUE_STRINGS
    return False


def to_unique_string_slice(value: Any) -> list[str]:
    """PocketBase's ``list.ToUniqueStringSlice``: a string is one value (or a JSON array of
    strings when it contains ``[``), arrays are cast element-wise, empty strings and
    duplicates are dropped."""
    result: list[str]
    if value is None:
        result = []
    elif isinstance(value, str):
        result = [value]
        if "[" in value:
            try:
                decoded = _json_array_loads(value)
            except ValueError:
                decoded = None
            else:
                # Go decodes the array up to its first non-string element and then, on
                # the error, appends the whole string
                if isinstance(decoded, list):
                    result = []
                    for v in decoded:
                        if v is not None and not isinstance(v, str):
                            result.append(value)
                            break
                        result.append("" if v is None else v)
    elif isinstance(value, (list, tuple)):
        result = [cast_to_string(v) for v in value]
    elif isinstance(value, Mapping):
        result = []
    else:
        result = [cast_to_string(value)]
    seen: set[str] = set()
    out = []
    for item in result:
        if item and item not in seen:
            seen.add(item)
            out.append(item)
    return out


# =========================================================================== Go time parsing

_SHORT_DAYS = ("Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat")
_LONG_DAYS = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")
_SHORT_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

# cast's time format kinds
_NO_TZ, _NAMED_TZ, _NUMERIC_TZ, _NUMERIC_AND_NAMED_TZ, _TIME_ONLY = range(5)


def _layout(*tokens: str) -> tuple[str, ...]:
    return tokens


# PocketBase's DateTime.Scan tries its own layout first, then cast.ToTime's list (in order).
_DEFAULT_LAYOUT = (
    _layout("2006", "-", "01", "-", "02", " ", "15", ":", "04", ":", "05", ".000", "Z"),
    _NO_TZ,
)
_CAST_LAYOUTS: tuple[tuple[tuple[str, ...], int], ...] = (
    (_layout("2006", "-", "01", "-", "02"), _NO_TZ),
    (_layout("2006", "-", "01", "-", "02", "T", "15", ":", "04", ":", "05", "Z07:00"), _NUMERIC_TZ),
    (_layout("2006", "-", "01", "-", "02", "T", "15", ":", "04", ":", "05"), _NO_TZ),
    (_layout("Mon", ", ", "02", " ", "Jan", " ", "2006", " ", "15", ":", "04", ":", "05", " ", "-0700"), _NUMERIC_TZ),
    (_layout("Mon", ", ", "02", " ", "Jan", " ", "2006", " ", "15", ":", "04", ":", "05", " ", "MST"), _NAMED_TZ),
    (_layout("02", " ", "Jan", " ", "06", " ", "15", ":", "04", " ", "-0700"), _NUMERIC_TZ),
    (_layout("02", " ", "Jan", " ", "06", " ", "15", ":", "04", " ", "MST"), _NAMED_TZ),
    (_layout("Monday", ", ", "02", "-", "Jan", "-", "06", " ", "15", ":", "04", ":", "05", " ", "MST"), _NAMED_TZ),
    (
        _layout("2006", "-", "01", "-", "02", " ", "15", ":", "04", ":", "05", ".999999999", " ", "-0700", " ", "MST"),
        _NUMERIC_AND_NAMED_TZ,
    ),
    (_layout("2006", "-", "01", "-", "02", "T", "15", ":", "04", ":", "05", "-0700"), _NUMERIC_TZ),
    (_layout("2006", "-", "01", "-", "02", " ", "15", ":", "04", ":", "05", "Z0700"), _NUMERIC_TZ),
    (_layout("2006", "-", "01", "-", "02", " ", "15", ":", "04", ":", "05"), _NO_TZ),
    (_layout("Mon", " ", "Jan", " ", "_2", " ", "15", ":", "04", ":", "05", " ", "2006"), _NO_TZ),
    (_layout("Mon", " ", "Jan", " ", "_2", " ", "15", ":", "04", ":", "05", " ", "MST", " ", "2006"), _NAMED_TZ),
    (_layout("Mon", " ", "Jan", " ", "02", " ", "15", ":", "04", ":", "05", " ", "-0700", " ", "2006"), _NUMERIC_TZ),
    (_layout("2006", "-", "01", "-", "02", " ", "15", ":", "04", ":", "05", "Z07:00"), _NUMERIC_TZ),
    (_layout("02", " ", "Jan", " ", "2006"), _NO_TZ),
    (_layout("2006", "-", "01", "-", "02", " ", "15", ":", "04", ":", "05", " ", "-07:00"), _NUMERIC_TZ),
    (_layout("2006", "-", "01", "-", "02", " ", "15", ":", "04", ":", "05", " ", "-0700"), _NUMERIC_TZ),
    (_layout("3", ":", "04", "PM"), _TIME_ONLY),
    (_layout("Jan", " ", "_2", " ", "15", ":", "04", ":", "05"), _TIME_ONLY),
    (_layout("Jan", " ", "_2", " ", "15", ":", "04", ":", "05", ".000"), _TIME_ONLY),
    (_layout("Jan", " ", "_2", " ", "15", ":", "04", ":", "05", ".000000"), _TIME_ONLY),
    (_layout("Jan", " ", "_2", " ", "15", ":", "04", ":", "05", ".000000000"), _TIME_ONLY),
)
_STD_TOKENS = frozenset(
    (
        "2006", "06", "01", "Jan", "02", "_2", "15", "3", "04", "05", "PM", "Mon", "Monday",
        "MST", "-0700", "-07:00", "Z0700", "Z07:00", ".000", ".000000", ".000000000", ".999999999",
    )
)


def _is_digit(s: str, i: int) -> bool:
    return i < len(s) and "0" <= s[i] <= "9"


def _getnum(value: str, fixed: bool) -> tuple[int, str] | None:
    if not _is_digit(value, 0):
        return None
    if not _is_digit(value, 1):
        if fixed:
            return None
        return int(value[0]), value[1:]
    return int(value[:2]), value[2:]


def _skip(value: str, prefix: str) -> str | None:
    while prefix:
        if prefix[0] == " ":
            if value and value[0] != " ":
                return None
            prefix = prefix.lstrip(" ")
            value = value.lstrip(" ")
            continue
        if not value or value[0] != prefix[0]:
            return None
        prefix, value = prefix[1:], value[1:]
    return value


def _lookup(names: tuple[str, ...], value: str) -> tuple[int, str] | None:
    for i, name in enumerate(names):
        if len(value) >= len(name) and value[: len(name)].lower() == name.lower():
            return i, value[len(name):]
    return None


def _parse_nanos(value: str, nbytes: int) -> int | None:
    if value[:1] not in (".", ","):
        return None
    digits = value[1:min(nbytes, 10)]
    if not digits or not digits.isascii() or not digits.isdigit():
        return None
    return int(digits.ljust(9, "0"))


def _signed_offset_len(value: str) -> int:
    if value[:1] not in ("+", "-"):
        return 0
    i = 1
    while _is_digit(value, i):
        i += 1
    if i == 1 or int(value[1:i]) > 23:
        return 0
    return i


def _timezone_len(value: str) -> int:
    """Go's ``parseTimeZone``: the length of a zone abbreviation at the start of ``value``."""
    if len(value) < 3:
        return 0
    if value[:4] in ("ChST", "MeST"):
        return 4
    if value[:3] == "GMT":
        return 3 + (_signed_offset_len(value[3:]) if len(value) > 3 else 0)
    if value[0] in "+-":
        return _signed_offset_len(value)
    upper = 0
    while upper < 6 and upper < len(value) and "A" <= value[upper] <= "Z":
        upper += 1
    if upper == 3:
        return 3
    if upper == 4 and (value[3] == "T" or value[:4] == "WITA"):
        return 4
    if upper == 5 and value[4] == "T":
        return 5
    return 0


def _next_std(tokens: tuple[str, ...], start: int) -> str | None:
    for tok in tokens[start:]:
        if tok in _STD_TOKENS:
            return tok
    return None


def _days_in(month: int, year: int) -> int:
    if month == 2:
        return 29 if year % 4 == 0 and (year % 100 != 0 or year % 400 == 0) else 28
    return 30 if month in (4, 6, 9, 11) else 31


def _days_from_civil(y: int, m: int, d: int) -> int:
    y -= m <= 2
    era = y // 400
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def _civil_from_days(z: int) -> tuple[int, int, int]:
    z += 719468
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + (3 if mp < 10 else -9)
    return yoe + era * 400 + (m <= 2), m, d


#: time.Time{} (0001-01-01 00:00:00 UTC) in seconds since the Unix epoch.
_ZERO_TIME = _days_from_civil(1, 1, 1) * 86400


def _go_parse(tokens: tuple[str, ...], kind: int, value: str) -> tuple[int, int] | None:
    """Go's ``time.Parse`` with ``tokens`` as the layout, followed by cast's re-dating of
    zone-less and named-zone layouts; (unix seconds, nanoseconds) or None."""
    year, month, day = 0, -1, -1
    hour = minute = second = nsec = 0
    pm = am = False
    utc = False
    offset: int | None = None
    zone_name = ""
    for i, tok in enumerate(tokens):
        if tok not in _STD_TOKENS:
            rest = _skip(value, tok)
            if rest is None:
                return None
            value = rest
            continue
        if tok == "2006":
            if len(value) < 4 or not value[:4].isascii() or not value[:4].isdigit():
                return None
            year, value = int(value[:4]), value[4:]
        elif tok == "06":
            if len(value) < 2 or not value[:2].isascii() or not value[:2].isdigit():
                return None
            year, value = int(value[:2]), value[2:]
            year += 1900 if year >= 69 else 2000
        elif tok == "01":
            got = _getnum(value, True)
            if got is None or not 1 <= got[0] <= 12:
                return None
            month, value = got
        elif tok == "Jan":
            found = _lookup(_SHORT_MONTHS, value)
            if found is None:
                return None
            month, value = found[0] + 1, found[1]
        elif tok in ("02", "_2"):
            if tok == "_2" and value[:1] == " ":
                value = value[1:]
            got = _getnum(value, tok == "02")
            if got is None:
                return None
            day, value = got
        elif tok == "15":
            got = _getnum(value, False)
            if got is None or not 0 <= got[0] < 24:
                return None
            hour, value = got
        elif tok == "3":
            got = _getnum(value, False)
            if got is None or not 0 <= got[0] <= 12:
                return None
            hour, value = got
        elif tok == "04":
            got = _getnum(value, True)
            if got is None or not 0 <= got[0] < 60:
                return None
            minute, value = got
        elif tok == "05":
            got = _getnum(value, True)
            if got is None or not 0 <= got[0] < 60:
                return None
            second, value = got
            # a fraction right after the seconds is accepted even when the layout has none
            if len(value) >= 2 and value[0] in ".," and _is_digit(value, 1):
                nxt = _next_std(tokens, i + 1)
                if nxt not in (".000", ".000000", ".000000000", ".999999999"):
                    n = 2
                    while _is_digit(value, n):
                        n += 1
                    parsed = _parse_nanos(value, n)
                    if parsed is None:
                        return None
                    nsec, value = parsed, value[n:]
        elif tok in (".000", ".000000", ".000000000"):
            n = len(tok)
            if len(value) < n:
                return None
            parsed = _parse_nanos(value, n)
            if parsed is None or len(value[1:n]) != n - 1 or not value[1:n].isdigit():
                return None
            nsec, value = parsed, value[n:]
        elif tok == ".999999999":
            if len(value) < 2 or value[0] not in ".," or not _is_digit(value, 1):
                continue
            n = 1
            while _is_digit(value, n):
                n += 1
            parsed = _parse_nanos(value, n)
            if parsed is None:
                return None
            nsec, value = parsed, value[n:]
        elif tok == "PM":
            if value[:2] == "PM":
                pm = True
            elif value[:2] == "AM":
                am = True
            else:
                return None
            value = value[2:]
        elif tok in ("Mon", "Monday"):
            found = _lookup(_SHORT_DAYS if tok == "Mon" else _LONG_DAYS, value)
            if found is None:
                return None
            value = found[1]
        elif tok == "MST":
            if value[:3] == "UTC":
                utc, value = True, value[3:]
                continue
            n = _timezone_len(value)
            if n == 0:
                return None
            zone_name, value = value[:n], value[n:]
        else:  # numeric zones
            if tok in ("Z0700", "Z07:00") and value[:1] == "Z":
                utc, value = True, value[1:]
                continue
            colon = tok.endswith(":00")
            width = 6 if colon else 5
            if len(value) < width or value[0] not in "+-" or (colon and value[3] != ":"):
                return None
            hh, mm = value[1:3], value[4:6] if colon else value[3:5]
            if not (hh.isascii() and hh.isdigit() and mm.isascii() and mm.isdigit()):
                return None
            if int(hh) > 24 or int(mm) > 60:
                return None
            offset = (int(hh) * 60 + int(mm)) * 60 * (-1 if value[0] == "-" else 1)
            value = value[width:]
    if value:
        return None
    if pm and hour < 12:
        hour += 12
    elif am and hour == 12:
        hour = 0
    if month < 0:
        month = 1
    if day < 0:
        day = 1
    if day < 1 or day > _days_in(month, year):
        return None
    wall = _days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second
    if utc:
        return wall, nsec
    if offset is not None:
        return wall - offset, nsec
    if zone_name and kind <= _NAMED_TZ:
        # Go keeps the wall clock in a fake zone with an unknown offset (GMT+N: N hours);
        # cast then reads the wall clock back in that zone and re-dates it in UTC
        if len(zone_name) > 3 and zone_name[:3] == "GMT":
            return wall + int(zone_name[3:]) * 3600, nsec
    return wall, nsec


def _format_year(year: int) -> str:
    return f"-{-year:04d}" if year < 0 else f"{year:04d}"


def _instant_parts(seconds: int) -> tuple[int, int, int, int, int, int]:
    days, rem = divmod(seconds, 86400)
    y, m, d = _civil_from_days(days)
    return y, m, d, rem // 3600, rem % 3600 // 60, rem % 60


def _format_instant(seconds: int, nsec: int) -> str:
    if seconds == _ZERO_TIME and nsec == 0:
        return ""
    y, m, d, hh, mm, ss = _instant_parts(seconds)
    return f"{_format_year(y)}-{m:02d}-{d:02d} {hh:02d}:{mm:02d}:{ss:02d}.{nsec // 1_000_000:03d}Z"


def parse_datetime(value: Any) -> str:
    """A date input as PocketBase stores it: ``YYYY-MM-DD HH:MM:SS.mmmZ`` in UTC, or ``""`` for
    anything ``types.ParseDateTime`` cannot read (numbers included)."""
    if not isinstance(value, str) or not value:
        return ""
    for tokens, kind in (_DEFAULT_LAYOUT, *_CAST_LAYOUTS):
        parsed = _go_parse(tokens, kind, value)
        if parsed is not None:
            return _format_instant(*parsed)
    return ""


_CANONICAL_DATE = re.compile(r"-?\d{4,}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}Z")


def _date_key(canonical: str) -> tuple[int, int]:
    """(seconds, millis) of a canonical date string, for comparisons."""
    negative = canonical.startswith("-")
    body = canonical[1:] if negative else canonical
    date, _, clock = body.partition(" ")
    y, m, d = (int(x) for x in date.split("-"))
    if negative:
        y = -y
    hh, mm, rest = clock.split(":")
    ss, _, ms = rest.rstrip("Z").partition(".")
    return _days_from_civil(y, m, d) * 86400 + int(hh) * 3600 + int(mm) * 60 + int(ss), int(ms)


def _go_time_string(canonical: str) -> str:
    """Go's ``time.Time.String()`` of a UTC date (``2024-12-31 12:00:00.5 +0000 UTC``)."""
    seconds, ms = _date_key(canonical)
    y, m, d, hh, mm, ss = _instant_parts(seconds)
    frac = f".{ms:03d}".rstrip("0").rstrip(".")
    return f"{_format_year(y)}-{m:02d}-{d:02d} {hh:02d}:{mm:02d}:{ss:02d}{frac} +0000 UTC"


def _go_time_json(canonical: str) -> str:
    """Go's JSON (RFC 3339 nano) of a UTC date (``2024-12-31T12:00:00.5Z``)."""
    seconds, ms = _date_key(canonical)
    y, m, d, hh, mm, ss = _instant_parts(seconds)
    frac = f".{ms:03d}".rstrip("0").rstrip(".")
    return f"{_format_year(y)}-{m:02d}-{d:02d}T{hh:02d}:{mm:02d}:{ss:02d}{frac}Z"


# =========================================================================== Go regexp

MAX_RUNE = 0x10FFFF

# Go's regexp/syntax.Op numbers (they appear in "unsupported pattern operator N" errors)
OP_NO_MATCH, OP_EMPTY, OP_LITERAL, OP_CLASS, OP_ANY_NOT_NL, OP_ANY = 1, 2, 3, 4, 5, 6
OP_BEGIN_LINE, OP_END_LINE, OP_BEGIN_TEXT, OP_END_TEXT, OP_WORD, OP_NO_WORD = 7, 8, 9, 10, 11, 12
OP_CAPTURE, OP_STAR, OP_PLUS, OP_QUEST, OP_REPEAT, OP_CONCAT, OP_ALTERNATE = 13, 14, 15, 16, 17, 18, 19


class GoRegexError(ValueError):
    """A Go ``regexp`` syntax error; ``str()`` is Go's ``err.Error()``."""

    def __init__(self, code: str, expr: str) -> None:
        self.code = code
        self.expr = expr
        super().__init__(f"error parsing regexp: {code}: `{expr}`")


class _Node:
    __slots__ = ("op", "subs", "ranges", "rune", "fold", "min", "max", "greedy")

    def __init__(self, op: int, subs: list[_Node] | None = None) -> None:
        self.op = op
        self.subs = subs or []
        self.ranges: list[tuple[int, int]] = []
        self.rune = 0
        self.fold = False
        self.min = 0
        self.max = -1
        self.greedy = True


_PERL_CLASSES = {
    "d": [(0x30, 0x39)],
    "s": [(0x09, 0x0A), (0x0C, 0x0D), (0x20, 0x20)],
    "w": [(0x30, 0x39), (0x41, 0x5A), (0x5F, 0x5F), (0x61, 0x7A)],
}
_POSIX_CLASSES = {
    "alnum": [(0x30, 0x39), (0x41, 0x5A), (0x61, 0x7A)],
    "alpha": [(0x41, 0x5A), (0x61, 0x7A)],
    "ascii": [(0x00, 0x7F)],
    "blank": [(0x09, 0x09), (0x20, 0x20)],
    "cntrl": [(0x00, 0x1F), (0x7F, 0x7F)],
    "digit": [(0x30, 0x39)],
    "graph": [(0x21, 0x7E)],
    "lower": [(0x61, 0x7A)],
    "print": [(0x20, 0x7E)],
    "punct": [(0x21, 0x2F), (0x3A, 0x40), (0x5B, 0x60), (0x7B, 0x7E)],
    "space": [(0x09, 0x0D), (0x20, 0x20)],
    "upper": [(0x41, 0x5A)],
    "word": [(0x30, 0x39), (0x41, 0x5A), (0x5F, 0x5F), (0x61, 0x7A)],
    "xdigit": [(0x30, 0x39), (0x41, 0x46), (0x61, 0x66)],
}
_UNICODE_CATEGORIES = frozenset(
    "C Cc Cf Co Cs L Ll Lm Lo Lt Lu M Mc Me Mn N Nd Nl No P Pc Pd Pe Pf Pi Po Ps "
    "S Sc Sk Sm So Z Zl Zp Zs".split()
)
_UNICODE_SCRIPTS = frozenset(
    """Adlam Ahom Anatolian_Hieroglyphs Arabic Armenian Avestan Balinese Bamum Bassa_Vah Batak
    Bengali Bhaiksuki Bopomofo Brahmi Braille Buginese Buhid Canadian_Aboriginal Carian
    Caucasian_Albanian Chakma Cham Cherokee Chorasmian Common Coptic Cuneiform Cypriot
    Cypro_Minoan Cyrillic Deseret Devanagari Dives_Akuru Dogra Duployan Egyptian_Hieroglyphs
    Elbasan Elymaic Ethiopic Georgian Glagolitic Gothic Grantha Greek Gujarati Gunjala_Gondi
    Gurmukhi Han Hangul Hanifi_Rohingya Hanunoo Hatran Hebrew Hiragana Imperial_Aramaic
    Inherited Inscriptional_Pahlavi Inscriptional_Parthian Javanese Kaithi Kannada Katakana
    Kawi Kayah_Li Kharoshthi Khitan_Small_Script Khmer Khojki Khudawadi Lao Latin Lepcha Limbu
    Linear_A Linear_B Lisu Lycian Lydian Mahajani Makasar Malayalam Mandaic Manichaean Marchen
    Masaram_Gondi Medefaidrin Meetei_Mayek Mende_Kikakui Meroitic_Cursive Meroitic_Hieroglyphs
    Miao Modi Mongolian Mro Multani Myanmar Nabataean Nag_Mundari Nandinagari New_Tai_Lue Newa
    Nko Nushu Nyiakeng_Puachue_Hmong Ogham Ol_Chiki Old_Hungarian Old_Italic Old_North_Arabian
    Old_Permic Old_Persian Old_Sogdian Old_South_Arabian Old_Turkic Old_Uyghur Oriya Osage
    Osmanya Pahawh_Hmong Palmyrene Pau_Cin_Hau Phags_Pa Phoenician Psalter_Pahlavi Rejang
    Runic Samaritan Saurashtra Sharada Shavian Siddham SignWriting Sinhala Sogdian
    Sora_Sompeng Soyombo Sundanese Syloti_Nagri Syriac Tagalog Tagbanwa Tai_Le Tai_Tham
    Tai_Viet Takri Tamil Tangsa Tangut Telugu Thaana Thai Tibetan Tifinagh Tirhuta Toto
    Ugaritic Vai Vithkuqi Wancho Warang_Citi Yezidi Yi Zanabazar_Square""".split()
)


def _ranges_of(predicate: Callable[[int], bool]) -> list[tuple[int, int]]:
    ranges: list[tuple[int, int]] = []
    start = -1
    for cp in range(MAX_RUNE + 2):
        inside = cp <= MAX_RUNE and predicate(cp)
        if inside and start < 0:
            start = cp
        elif not inside and start >= 0:
            ranges.append((start, cp - 1))
            start = -1
    return ranges


@lru_cache(maxsize=64)
def _unicode_table(name: str) -> tuple[tuple[int, int], ...] | None:
    """Code point ranges of a ``\\p{...}`` name (categories exactly as Python's Unicode data;
    scripts approximated by character names, Common/Inherited by category)."""
    if name == "Any":
        return ((0, MAX_RUNE),)
    if name in _UNICODE_CATEGORIES:
        if len(name) == 1:
            return tuple(_ranges_of(lambda cp: unicodedata.category(chr(cp))[0] == name))
        return tuple(_ranges_of(lambda cp: unicodedata.category(chr(cp)) == name))
    if name in _UNICODE_SCRIPTS:
        if name == "Han":
            prefixes: tuple[str, ...] = ("CJK UNIFIED IDEOGRAPH", "CJK COMPATIBILITY IDEOGRAPH")
        elif name == "Common":
            return tuple(
                _ranges_of(
                    lambda cp: unicodedata.category(chr(cp))[0] in "PSZN" and cp < 0x2E80
                    or unicodedata.category(chr(cp)) == "Cc"
                )
            )
        elif name == "Inherited":
            return tuple(_ranges_of(lambda cp: unicodedata.category(chr(cp)) in ("Mn", "Me")))
        else:
            prefixes = (name.upper().replace("_", " ") + " ",)
        return tuple(_ranges_of(lambda cp: unicodedata.name(chr(cp), "").startswith(prefixes)))
    return None


def _clean(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for lo, hi in sorted(ranges):
        if out and lo <= out[-1][1] + 1:
            if hi > out[-1][1]:
                out[-1] = (out[-1][0], hi)
        else:
            out.append((lo, hi))
    return out


def _negate(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    nxt = 0
    for lo, hi in _clean(ranges):
        if lo > nxt:
            out.append((nxt, lo - 1))
        nxt = hi + 1
    if nxt <= MAX_RUNE:
        out.append((nxt, MAX_RUNE))
    return out


_FOLD_EXTRA = {
    "k": "\u212a", "K": "\u212a", "\u212a": "kK",
    "s": "\u017f", "S": "\u017f", "\u017f": "sS",
    "\u00e5": "\u212b", "\u00c5": "\u212b", "\u212b": "\u00e5\u00c5",
}


def _fold_orbit(cp: int) -> set[int]:
    c = chr(cp)
    orbit = {cp}
    for other in (c.lower(), c.upper(), c.title()):
        if len(other) == 1:
            orbit.add(ord(other))
    for other in _FOLD_EXTRA.get(c, ""):
        orbit.add(ord(other))
    return orbit


def _fold_ranges(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """``appendFoldedRange``: add the case variants of every rune (A..𞥃 is the folding span)."""
    out = list(ranges)
    for lo, hi in ranges:
        if lo <= 0x41 and hi >= 0x1E943:
            continue
        for cp in range(max(lo, 0x41), min(hi, 0x1E943) + 1):
            for other in _fold_orbit(cp):
                if not lo <= other <= hi:
                    out.append((other, other))
    return _clean(out)


def _min_fold(cp: int) -> int:
    return min(_fold_orbit(cp))


def _is_word_char(c: str) -> bool:
    return c.isascii() and (c.isalnum() or c == "_")


class _GoRegexParser:
    """Go's ``regexp/syntax.Parse`` with the Perl flags ``regexp.Compile`` uses."""

    def __init__(self, pattern: str) -> None:
        self.s = pattern

    def parse(self) -> _Node:
        node, pos, _ = self._alternation(0, {"i": False, "m": False, "s": False, "U": False})
        if pos < len(self.s):
            raise GoRegexError("unexpected )", self.s)
        return node

    # -- structure -------------------------------------------------------------

    def _alternation(self, pos: int, flags: dict[str, bool]) -> tuple[_Node, int, dict[str, bool]]:
        branches = []
        while True:
            node, pos, flags = self._sequence(pos, flags)
            branches.append(node)
            if pos < len(self.s) and self.s[pos] == "|":
                pos += 1
                continue
            break
        if len(branches) == 1:
            return branches[0], pos, flags
        return _Node(OP_ALTERNATE, branches), pos, flags

    def _sequence(self, pos: int, flags: dict[str, bool]) -> tuple[_Node, int, dict[str, bool]]:
        s = self.s
        items: list[_Node] = []
        last_repeat = -1  # start of the previous repetition operator, -1 if the last item wasn't one
        while pos < len(s) and s[pos] not in "|)":
            c = s[pos]
            start = pos
            repeat = -1
            if c == "(":
                node, pos, flags = self._group(pos, flags)
                if node is not None:
                    items.append(node)
            elif c == "[":
                node, pos = self._class(pos, flags)
                items.append(node)
            elif c in "*+?":
                bounds = {"*": (0, -1), "+": (1, -1), "?": (0, 1)}[c]
                pos = self._repeat(items, bounds, c, start, pos + 1, last_repeat, flags)
                repeat = start
            elif c == "{":
                parsed = self._repeat_braces(pos)
                if parsed is None:
                    items.append(self._literal(ord("{"), flags))
                    pos += 1
                else:
                    lo, hi, after = parsed
                    if lo < 0 or lo > 1000 or hi > 1000 or (hi >= 0 and lo > hi):
                        raise GoRegexError("invalid repeat count", s[start:after])
                    pos = self._repeat(items, (lo, hi), "{", start, after, last_repeat, flags)
                    repeat = start
            elif c == ".":
                items.append(_Node(OP_ANY if flags["s"] else OP_ANY_NOT_NL))
                pos += 1
            elif c == "^":
                items.append(_Node(OP_BEGIN_LINE if flags["m"] else OP_BEGIN_TEXT))
                pos += 1
            elif c == "$":
                items.append(_Node(OP_END_LINE if flags["m"] else OP_END_TEXT))
                pos += 1
            elif c == "\\":
                pos = self._escape_outside(pos, items, flags)
            else:
                items.append(self._literal(ord(c), flags))
                pos += 1
            last_repeat = repeat
        if not items:
            return _Node(OP_EMPTY), pos, flags
        if len(items) == 1:
            return items[0], pos, flags
        return _Node(OP_CONCAT, items), pos, flags

    def _group(self, pos: int, flags: dict[str, bool]) -> tuple[_Node | None, int, dict[str, bool]]:
        s = self.s
        t = s[pos:]
        if t.startswith("(?"):
            if (len(t) > 4 and t[2] == "P" and t[3] == "<") or (len(t) > 3 and t[2] == "<"):
                begin = 4 if t[2] == "P" else 3
                end = t.find(">")
                if end < 0:
                    raise GoRegexError("invalid named capture", t)
                name = t[begin:end]
                if not name or not all(_is_word_char(ch) for ch in name):
                    raise GoRegexError("invalid named capture", t[: end + 1])
                return self._group_body(pos + end + 1, flags, capture=True)
            new = dict(flags)
            sign = 1
            saw_flag = False
            i = 2
            while i < len(t):
                ch = t[i]
                i += 1
                if ch in "imsU":
                    new[ch] = sign > 0
                    saw_flag = True
                elif ch == "-":
                    if sign < 0:
                        break
                    sign = -1
                    saw_flag = False
                elif ch in ":)":
                    if sign < 0 and not saw_flag:
                        break
                    if ch == ")":
                        return None, pos + i, new
                    return self._group_body(pos + i, new, capture=False, outer=flags)
                else:
                    break
            raise GoRegexError("invalid or unsupported Perl syntax", t[:i])
        return self._group_body(pos + 1, flags, capture=True)

    def _group_body(
        self, pos: int, flags: dict[str, bool], *, capture: bool, outer: dict[str, bool] | None = None
    ) -> tuple[_Node, int, dict[str, bool]]:
        node, pos, _ = self._alternation(pos, dict(flags))
        if pos >= len(self.s) or self.s[pos] != ")":
            raise GoRegexError("missing closing )", self.s)
        result = _Node(OP_CAPTURE, [node]) if capture else node
        return result, pos + 1, outer if outer is not None else flags

    def _repeat_braces(self, pos: int) -> tuple[int, int, int] | None:
        m = re.match(r"\{([0-9]+)(,([0-9]*))?\}", self.s[pos:])
        if not m:
            return None

        def number(text: str) -> int | None:
            if len(text) >= 2 and text[0] == "0":
                return None  # leading zeros: not a repeat, "{" is a literal
            return -1 if len(text) > 9 else int(text)  # -1: too big

        lo = number(m.group(1))
        if lo is None:
            return None
        if m.group(2) is None:
            hi: int | None = lo
        elif m.group(3) == "":
            hi = -1
        else:
            hi = number(m.group(3))
            if hi is None:
                return None
            if hi < 0:
                lo = -1
        return lo, hi, pos + m.end()

    def _repeat(
        self,
        items: list[_Node],
        bounds: tuple[int, int],
        kind: str,
        start: int,
        after: int,
        last_repeat: int,
        flags: dict[str, bool],
    ) -> int:
        greedy = not flags["U"]
        if after < len(self.s) and self.s[after] == "?":
            greedy = not greedy
            after += 1
        if last_repeat >= 0:
            raise GoRegexError("invalid nested repetition operator", self.s[last_repeat:after])
        if not items:
            raise GoRegexError("missing argument to repetition operator", self.s[start:after])
        op = {"*": OP_STAR, "+": OP_PLUS, "?": OP_QUEST}.get(kind, OP_REPEAT)
        node = _Node(op, [items[-1]])
        node.min, node.max = bounds
        node.greedy = greedy
        if op == OP_REPEAT and (node.min >= 2 or node.max >= 2) and not _repeat_is_valid(node, 1000):
            raise GoRegexError("invalid repeat count", self.s[start:after])
        items[-1] = node
        return after

    # -- atoms -----------------------------------------------------------------

    def _literal(self, cp: int, flags: dict[str, bool]) -> _Node:
        node = _Node(OP_LITERAL)
        node.fold = flags["i"] and _min_fold(cp) != max(_fold_orbit(cp))
        node.rune = _min_fold(cp) if node.fold else cp
        return node

    def _class_node(self, ranges: list[tuple[int, int]], flags: dict[str, bool]) -> _Node:
        ranges = _clean(ranges)
        if len(ranges) == 1 and ranges[0][0] == ranges[0][1]:
            node = _Node(OP_LITERAL)
            node.rune = ranges[0][0]
            return node
        if (
            len(ranges) == 2
            and ranges[0][0] == ranges[0][1]
            and ranges[1][0] == ranges[1][1]
            and _fold_orbit(ranges[0][0]) == {ranges[0][0], ranges[1][0]}
        ):
            node = _Node(OP_LITERAL)  # [Aa] is a case-insensitive literal
            node.rune = ranges[0][0]
            node.fold = True
            return node
        node = _Node(OP_CLASS)
        node.ranges = ranges
        return node

    def _escape_outside(self, pos: int, items: list[_Node], flags: dict[str, bool]) -> int:
        s = self.s
        t = s[pos:]
        if len(t) >= 2:
            c = t[1]
            simple = {"A": OP_BEGIN_TEXT, "b": OP_WORD, "B": OP_NO_WORD, "z": OP_END_TEXT}
            if c in simple:
                items.append(_Node(simple[c]))
                return pos + 2
            if c == "C":
                raise GoRegexError("invalid escape sequence", t[:2])
            if c == "Q":
                end = t.find("\\E", 2)
                lit = t[2:] if end < 0 else t[2:end]
                items.extend(self._literal(ord(ch), flags) for ch in lit)
                return len(s) if end < 0 else pos + end + 2
            if c in "pP":
                ranges, nxt = self._unicode_class(pos)
                items.append(self._class_node(_fold_ranges(ranges) if flags["i"] else ranges, flags))
                return nxt
            perl = self._perl_class(t)
            if perl is not None:
                items.append(self._class_node(perl, flags))
                return pos + 2
        cp, nxt = self._escape(pos)
        items.append(self._literal(cp, flags))
        return nxt

    def _perl_class(self, t: str) -> list[tuple[int, int]] | None:
        if len(t) >= 2 and t[0] == "\\" and t[1].lower() in _PERL_CLASSES:
            ranges = _PERL_CLASSES[t[1].lower()]
            return _negate(ranges) if t[1].isupper() else list(ranges)
        return None

    def _unicode_class(self, pos: int) -> tuple[list[tuple[int, int]], int]:
        s = self.s
        t = s[pos:]
        negated = t[1] == "P"
        if len(t) < 3:
            raise GoRegexError("invalid character class range", t)
        if t[2] != "{":
            seq, name = t[:3], t[2]
        else:
            end = t.find("}")
            if end < 0:
                raise GoRegexError("invalid character class range", t)
            seq, name = t[: end + 1], t[3:end]
        if name.startswith("^"):
            negated = not negated
            name = name[1:]
        table = _unicode_table(name)
        if table is None:
            raise GoRegexError("invalid character class range", seq)
        ranges = list(table)
        return (_negate(ranges) if negated else ranges), pos + len(seq)

    def _escape(self, pos: int) -> tuple[int, int]:
        """``parseEscape``: one escaped rune; (code point, next position)."""
        s = self.s
        t = s[pos + 1:]
        if not t:
            raise GoRegexError("trailing backslash at end of expression", "")
        c = t[0]
        i = pos + 2
        if c.isascii() and not c.isalnum():
            return ord(c), i
        if c in "1234567" and not (i < len(s) and "0" <= s[i] <= "7"):
            raise GoRegexError("invalid escape sequence", s[pos:i])
        if c in "01234567":
            r = ord(c) - 48
            for _ in range(2):
                if i < len(s) and "0" <= s[i] <= "7":
                    r = r * 8 + ord(s[i]) - 48
                    i += 1
                else:
                    break
            return r, i
        if c == "x":
            if i >= len(s):
                raise GoRegexError("invalid escape sequence", s[pos:i])
            if s[i] == "{":
                j = i + 1
                r = 0
                nhex = 0
                while True:
                    if j >= len(s):
                        raise GoRegexError("invalid escape sequence", s[pos:j])
                    ch = s[j]
                    j += 1
                    if ch == "}":
                        break
                    if ch not in "0123456789abcdefABCDEF":
                        raise GoRegexError("invalid escape sequence", s[pos:j])
                    r = r * 16 + int(ch, 16)
                    nhex += 1
                    if r > MAX_RUNE:
                        raise GoRegexError("invalid escape sequence", s[pos:j])
                if nhex == 0:
                    raise GoRegexError("invalid escape sequence", s[pos:j])
                return r, j
            pair = s[i:i + 2]
            if len(pair) < 2 or any(ch not in "0123456789abcdefABCDEF" for ch in pair):
                raise GoRegexError("invalid escape sequence", s[pos:i + min(2, len(pair))])
            return int(pair, 16), i + 2
        simple = {"a": 7, "f": 12, "n": 10, "r": 13, "t": 9, "v": 11}
        if c in simple:
            return simple[c], i
        raise GoRegexError("invalid escape sequence", s[pos:i])

    def _class(self, pos: int, flags: dict[str, bool]) -> tuple[_Node, int]:
        s = self.s
        whole = s[pos:]
        i = pos + 1
        negated = False
        if i < len(s) and s[i] == "^":
            negated = True
            i += 1
        ranges: list[tuple[int, int]] = []
        first = True
        while i >= len(s) or s[i] != "]" or first:
            first = False
            if i < len(s) - 2 and s[i] == "[" and s[i + 1] == ":":
                end = s.find(":]", i + 2)
                if end >= 0:
                    name = s[i:end + 2]
                    inner = name[2:-2]
                    neg = inner.startswith("^")
                    table = _POSIX_CLASSES.get(inner[1:] if neg else inner)
                    if table is None:
                        raise GoRegexError("invalid character class range", name)
                    ranges.extend(_negate(table) if neg else table)
                    i = end + 2
                    continue
            if i + 1 < len(s) and s[i] == "\\" and s[i + 1] in "pP":
                uni, i = self._unicode_class(i)
                ranges.extend(uni)
                continue
            perl = self._perl_class(s[i:i + 2])
            if perl is not None:
                ranges.extend(perl)
                i += 2
                continue
            rng_start = i
            lo, i = self._class_char(i, whole)
            hi = lo
            if i + 1 < len(s) and s[i] == "-" and s[i + 1] != "]":
                hi, i = self._class_char(i + 1, whole)
                if hi < lo:
                    raise GoRegexError("invalid character class range", s[rng_start:i])
            ranges.append((lo, hi))
        i += 1
        if flags["i"]:
            ranges = _fold_ranges(ranges)
        if negated:
            ranges = _negate(ranges)
        if not ranges:
            node = _Node(OP_CLASS)
            return node, i
        return self._class_node(ranges, flags), i

    def _class_char(self, i: int, whole: str) -> tuple[int, int]:
        s = self.s
        if i >= len(s):
            raise GoRegexError("missing closing ]", whole)
        if s[i] == "\\":
            return self._escape(i)
        return ord(s[i]), i + 1


def _repeat_is_valid(node: _Node, n: int) -> bool:
    if node.op == OP_REPEAT:
        m = node.max
        if m == 0:
            return True
        if m < 0:
            m = node.min
        if m > n:
            return False
        if m > 0:
            n //= m
    return all(_repeat_is_valid(sub, n) for sub in node.subs)


def _py_char(cp: int) -> str:
    return f"\\U{cp:08x}"


def _to_python(node: _Node) -> str:
    op = node.op
    if op == OP_LITERAL:
        text = re.escape(chr(node.rune))
        return f"(?i:{text})" if node.fold else text
    if op == OP_CLASS:
        if not node.ranges:
            return "(?!)"
        parts = (_py_char(lo) if lo == hi else f"{_py_char(lo)}-{_py_char(hi)}" for lo, hi in node.ranges)
        return "[" + "".join(parts) + "]"
    if op == OP_ANY_NOT_NL:
        return "[^\\n]"
    if op == OP_ANY:
        return "[\\s\\S]"
    if op == OP_BEGIN_LINE:
        return "(?m:^)"
    if op == OP_END_LINE:
        return "(?m:$)"
    if op == OP_BEGIN_TEXT:
        return "\\A"
    if op == OP_END_TEXT:
        return "\\Z"
    if op == OP_WORD:
        return "(?a:\\b)"
    if op == OP_NO_WORD:
        return "(?a:\\B)"
    if op == OP_EMPTY:
        return ""
    if op == OP_CAPTURE:
        return f"({_to_python(node.subs[0])})"
    if op == OP_CONCAT:
        return "(?:" + "".join(_to_python(sub) for sub in node.subs) + ")"
    if op == OP_ALTERNATE:
        return "(?:" + "|".join(_to_python(sub) for sub in node.subs) + ")"
    lazy = "" if node.greedy else "?"
    inner = f"(?:{_to_python(node.subs[0])})"
    if op == OP_STAR:
        return f"{inner}*{lazy}"
    if op == OP_PLUS:
        return f"{inner}+{lazy}"
    if op == OP_QUEST:
        return f"{inner}?{lazy}"
    hi = "" if node.max < 0 else str(node.max)
    if node.max == node.min:
        return f"{inner}{{{node.min}}}{lazy}"
    return f"{inner}{{{node.min},{hi}}}{lazy}"


@lru_cache(maxsize=512)
def _go_regex(pattern: str) -> tuple[_Node, re.Pattern[str]]:
    tree = _GoRegexParser(pattern).parse()
    return tree, re.compile(_to_python(tree))


def go_regex_error(pattern: str) -> str | None:
    """Go's ``regexp.Compile`` error message for ``pattern``, or None when it compiles."""
    try:
        _go_regex(pattern)
    except GoRegexError as exc:
        return str(exc)
    except re.error as exc:  # a translation Python rejects (should not happen)
        return f"error parsing regexp: {exc}"
    return None


def go_regex_match(pattern: str, value: str) -> bool:
    """``regexp.MatchString(pattern, value)`` (unanchored; an invalid pattern never matches)."""
    try:
        return _go_regex(pattern)[1].search(value) is not None
    except (GoRegexError, re.error):
        return False


_ANY_CHAR_NOT_NL = [(0x41, 0x5A), (0x61, 0x7A), (0x30, 0x39)]


def _random_rune(ranges: list[tuple[int, int]]) -> str:
    total = sum(hi - lo + 1 for lo, hi in ranges)
    if total == 0:
        raise ValueError("no runes to choose from")
    pick = secrets.randbelow(total)
    for lo, hi in ranges:
        size = hi - lo + 1
        if pick < size:
            cp = lo + pick
            return "\ufffd" if 0xD800 <= cp <= 0xDFFF else chr(cp)
        pick -= size
    raise AssertionError("unreachable")


def _generate(node: _Node, out: list[str]) -> None:
    op = node.op
    if op == OP_CLASS:
        out.append(_random_rune(node.ranges))
    elif op in (OP_ANY, OP_ANY_NOT_NL):
        out.append(_random_rune(_ANY_CHAR_NOT_NL))
    elif op == OP_ALTERNATE:
        _generate(node.subs[secrets.randbelow(len(node.subs))], out)
    elif op == OP_CONCAT:
        for sub in node.subs:
            _generate(sub, out)
    elif op in (OP_REPEAT, OP_QUEST, OP_PLUS, OP_STAR):
        lo, hi = node.min, node.max
        if op == OP_QUEST:
            lo, hi = 0, 1
        elif op == OP_PLUS:
            lo, hi = 1, -1
        elif op == OP_STAR:
            lo, hi = 0, -1
        if hi < 0:
            hi = 6
        if hi < lo:
            hi = lo
        # PocketBase draws from [min, max) – `x?` never produces x, `{2,4}` gives 2 or 3
        count = lo if hi == lo else lo + secrets.randbelow(hi - lo)
        for _ in range(count):
            _generate(node.subs[0], out)
    elif op == OP_CAPTURE:
        _generate(node.subs[0], out)
    elif op == OP_LITERAL:
        out.append(chr(node.rune))
    else:
        raise ValueError(f"unsupported pattern operator {op}")


def generate_from_pattern(pattern: str) -> str:
    """A random string for an ``autogeneratePattern`` (e.g. ``[a-z0-9]{15}``), made the way
    PocketBase's ``security.RandomStringByRegex`` makes it, with ``secrets`` randomness.

    Raises ``GoRegexError`` for a pattern Go cannot parse and ``ValueError`` for constructs
    PocketBase cannot generate from (anchors, ``\\b``, empty alternatives: "unsupported
    pattern operator N").
    """
    tree = _go_regex(pattern)[0]
    out: list[str] = []
    _generate(tree, out)
    return "".join(out)


# =========================================================================== string checks

_U = "\\u00A0-\\uD7FF\\uF900-\\uFDCF\\uFDF0-\\uFFEF"
# govalidator.IsEmail: the local part as its regexp has it ...
_EMAIL_LOCAL = re.compile(
    rf"[a-zA-Z0-9!#$%&'*+\-/=?^_`{{|}}~{_U}]+(?:\.[a-zA-Z0-9!#$%&'*+\-/=?^_`{{|}}~{_U}]+)*"
    rf"|\"(?:(?:[ \t]*\r\n)?[ \t]+)?"
    rf"(?:(?:[\x01-\x08\x0b\x0c\x0e-\x1f\x7f\x21\x23-\x5b\x5d-\x7e{_U}]"
    rf"|\([\x01-\x09\x0b\x0c\x0d-\x7f]|[{_U}])(?:(?:[ \t]*\r\n)?[ \t]+)?)*\""
)
_EMAIL_ALNUM = re.compile(rf"[a-zA-Z0-9{_U}]")
_EMAIL_ALPHA = re.compile(rf"[a-zA-Z{_U}]")
_EMAIL_INNER = re.compile(rf"[a-zA-Z0-9\-._~{_U}]*")


def _email_domain_ok(domain: str) -> bool:
    """The domain part of govalidator's email regexp, decided in linear time: labels (any
    run of ``[alnum-._~]`` starting and ending with alnum) ``.`` a TLD (starting and ending
    with a letter), with an optional final dot."""
    candidates = [domain]
    if domain.endswith("."):
        candidates.append(domain[:-1])
    for d in candidates:
        if not d or not _EMAIL_INNER.fullmatch(d):
            continue
        if not _EMAIL_ALNUM.fullmatch(d[0]) or not _EMAIL_ALPHA.fullmatch(d[-1]):
            continue
        for i, ch in enumerate(d):
            if ch != "." or i == 0 or i == len(d) - 1:
                continue
            if _EMAIL_ALNUM.fullmatch(d[i - 1]) and _EMAIL_ALPHA.fullmatch(d[i + 1]):
                return True
    return False


def is_email(value: str) -> bool:
    """``govalidator.IsEmail`` (what ``is.EmailFormat`` uses)."""
    at = value.rfind("@")
    if at < 0:
        return False
    return bool(_EMAIL_LOCAL.fullmatch(value[:at])) and _email_domain_ok(value[at + 1:])


_NS = r"[^\t\n\f\r ]"  # Go's \S
_IPV4_OCTET = r"(?:25[0-5]|(?:2[0-4]|1?[0-9])?[0-9])"
_H = r"[0-9a-fA-F]{1,4}"
_IP = (
    rf"(?:(?:{_H}:){{7}}{_H}|(?:{_H}:){{1,7}}:|(?:{_H}:){{1,6}}:{_H}|(?:{_H}:){{1,5}}(?::{_H}){{1,2}}"
    rf"|(?:{_H}:){{1,4}}(?::{_H}){{1,3}}|(?:{_H}:){{1,3}}(?::{_H}){{1,4}}|(?:{_H}:){{1,2}}(?::{_H}){{1,5}}"
    rf"|{_H}:(?:(?::{_H}){{1,6}})|:(?:(?::{_H}){{1,7}}|:)|fe80:(?::[0-9a-fA-F]{{0,4}}){{0,4}}%[0-9a-zA-Z]+"
    rf"|::(?:ffff(?::0{{1,4}})?:)?(?:{_IPV4_OCTET}\.){{3}}{_IPV4_OCTET}"
    rf"|(?:{_H}:){{1,4}}:(?:{_IPV4_OCTET}\.){{3}}{_IPV4_OCTET})"
)
_URL_IP = (
    r"(?:[1-9][0-9]?|1[0-9][0-9]|2[01][0-9]|22[0-3]|24[0-9]|25[0-5])"
    r"(?:\.(?:[0-9]{1,2}|1[0-9][0-9]|2[0-4][0-9]|25[0-5])){2}"
    r"(?:\.(?:[0-9][0-9]?|1[0-9][0-9]|2[0-4][0-9]|25[0-5]))"
)
_A = "a-zA-Z0-9"
_HOSTCHAR = "[a-zA-Z\u00a1-\uffff0-9]"
# govalidator's URL regexp, with its ambiguous sub-patterns rewritten to equivalent
# less ambiguous ones so that Python's backtracking cannot go exponential:
#   [A]+([-_.]?[A])*[A]   ->  [A]([-_.]?[A])*[A]
#   ([H]+-?-?)*[H]+       ->  [H]+(--?[H]+)*
_URL = re.compile(
    r"(?:(?:ftp|tcp|udp|wss?|https?)://)?"
    rf"(?:{_NS}+(?::{_NS}*)?@)?"
    rf"(?:{_URL_IP}|\[{_IP}\]"
    rf"|(?:[{_A}](?:[{_A}\-_]+)?[{_A}](?:[\-.][{_A}]+)*|(?:www\.|[{_A}](?:[\-_.]?[{_A}])*[{_A}]\.[{_A}]+)?)?"
    rf"{_HOSTCHAR}+(?:--?{_HOSTCHAR}+)*(?:\.[a-zA-Z\u00a1-\uffff]+)?)"
    r"\.?(?::[0-9]{1,5})?(?:[/?#][^\t\n\f\r ]*)?"
)
_HEX = "0123456789abcdefABCDEF"
_HOST_OK = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.~!$&'()*+,;=:[]<>\"")
_USERINFO_OK = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._:~!$&'()*+,;=%@")


def _escapes_ok(text: str, host: bool = False) -> bool:
    i = 0
    while i < len(text):
        if text[i] == "%":
            pair = text[i + 1:i + 3]
            if len(pair) < 2 or pair[0] not in _HEX or pair[1] not in _HEX:
                return False
            if host and int(pair[0], 16) < 8 and pair != "25":
                return False
            i += 3
            continue
        if host and text[i].isascii() and text[i] not in _HOST_OK:
            return False
        i += 1
    return True


def go_url_parse(raw: str) -> tuple[str, str, str] | None:
    """Go's ``url.Parse``: (scheme, host, path), or None where Go returns an error."""
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in raw):
        return None
    rest, hash_sign, fragment = raw.partition("#")
    if hash_sign and not _escapes_ok(fragment):
        return None
    scheme = ""
    for i, c in enumerate(rest):
        if c.isascii() and c.isalpha():
            continue
        if c.isascii() and (c.isdigit() or c in "+-."):
            if i == 0:
                break
            continue
        if c == ":":
            if i == 0:
                return None  # missing protocol scheme
            scheme, rest = rest[:i].lower(), rest[i + 1:]
        break
    if "?" in rest:
        rest = rest.partition("?")[0]
    if not rest.startswith("/"):
        if scheme:
            return scheme, "", ""  # opaque
        if ":" in rest.partition("/")[0]:
            return None  # first path segment in URL cannot contain colon
    host = ""
    if (scheme or not rest.startswith("///")) and rest.startswith("//"):
        authority, slash, path = rest[2:].partition("/")
        rest = slash + path
        userinfo, at, host = authority.rpartition("@")
        if at and not (all(c in _USERINFO_OK for c in userinfo) and _escapes_ok(userinfo)):
            return None
        if host.startswith("["):
            close = host.rfind("]")
            if close < 0:
                return None
            port = host[close + 1:]
            if port and (port[0] != ":" or (port[1:] and not (port[1:].isascii() and port[1:].isdigit()))):
                return None
        elif ":" in host:
            port = host[host.rfind(":"):]
            if port[1:] and not (port[1:].isascii() and port[1:].isdigit()):
                return None
        if not host.startswith("[") and not _escapes_ok(host, host=True):
            return None
    if not _escapes_ok(rest):
        return None
    return scheme, host, rest


def is_url(value: str) -> bool:
    """``govalidator.IsURL`` (what ``is.URL`` uses)."""
    if not value or len(value) >= 2083 or value.startswith("."):
        return False
    if len(value.encode("utf-8", "surrogatepass")) <= 3:
        return False
    probe = value
    if ":" in value and "://" not in value:
        probe = "http://" + value
    parsed = go_url_parse(probe)
    if parsed is None:
        return False
    _, host, path = parsed
    if host.startswith("."):
        return False
    if host == "" and path != "" and "." not in path:
        return False
    return _URL.fullmatch(value) is not None


_DOMAIN = re.compile(
    r"(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-z0-9])?\.)+(?:[a-zA-Z]{1,63}| xn--[a-z0-9]{1,59})"
)


def is_domain(value: str) -> bool:
    """ozzo-validation's ``is.Domain`` as PocketBase 0.40 has it: a label's last character
    must be lowercase or a digit (``Bad.com`` is valid, ``OK.com`` is not) and punycode TLDs
    only match with a leading space (`` xn--``)."""
    return len(value) <= 255 and _DOMAIN.fullmatch(value) is not None


_THUMB = re.compile(r"[0-9]+x[0-9]+[tbf]?")


_GO_ESCAPES = {
    "\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\v": "\\v",
}


def go_quote(s: str) -> str:
    """Go's ``strconv.Quote``."""
    out = ['"']
    for ch in s:
        cp = ord(ch)
        if ch in ('"', "\\"):
            out.append("\\" + ch)
        elif ch == " " or (ch.isprintable() and cp != 0x7F):
            out.append(ch)
        elif ch in "\a\b\f\n\r\t\v":
            out.append(_GO_ESCAPES[ch])
        elif cp < 0x20 or cp == 0x7F:
            out.append(f"\\x{cp:02x}")
        elif cp < 0x10000:
            out.append(f"\\u{cp:04x}")
        else:
            out.append(f"\\U{cp:08x}")
    out.append('"')
    return "".join(out)


# =========================================================================== JSON helpers


def _go_json_value(value: Any) -> Any:
    """A decoded JSON value as Go's ``json.Marshal`` re-encodes it (numbers are float64,
    object keys sorted)."""
    if isinstance(value, Mapping):
        return {str(k): _go_json_value(value[k]) for k in sorted(value, key=str)}
    if isinstance(value, (list, tuple)):
        return [_go_json_value(v) for v in value]
    if _is_number(value):
        return go_number(value)
    return value


def _json_string(s: str) -> str:
    out = ['"']
    for ch in s:
        cp = ord(ch)
        if ch == '"' or ch == "\\":
            out.append("\\" + ch)
        elif ch in "\n\r\t\b\f":
            out.append({"\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f"}[ch])
        elif cp < 0x20 or cp in (0x2028, 0x2029):
            out.append(f"\\u{cp:04x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def go_json_dumps(value: Any) -> str:
    """Compact JSON as Go's ``encoding/json`` writes it (sorted keys, Go float format, no
    HTML escaping – PocketBase stores it that way)."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return go_json_float(value) if math.isfinite(value) else "null"
    if isinstance(value, str):
        return _json_string(value)
    if isinstance(value, Mapping):
        members = (f"{_json_string(str(k))}:{go_json_dumps(value[k])}" for k in sorted(value, key=str))
        return "{" + ",".join(members) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(go_json_dumps(v) for v in value) + "]"
    return _json_string(str(value))


def _reject_constant(name: str) -> Any:
    raise ValueError(f"invalid JSON constant {name}")


def _strict_json_loads(text: str) -> Any:
    return json.loads(text, parse_constant=_reject_constant)


def _json_array_loads(text: str) -> Any:
    """``_strict_json_loads`` for a string slice, several times faster: orjson differs only
    on numbers (big integers become floats), which a string slice rejects either way."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:  # e.g. lone surrogates, which Go's decoder takes
        return _strict_json_loads(text)


def _dump_json(value: Any) -> str:
    try:
        return orjson.dumps(value).decode()
    except TypeError:  # e.g. integers beyond 64 bits
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


class InvalidJSON:
    """A json field input PocketBase stores as a Go-quoted string that is not valid JSON
    (a string with control characters); ``validate`` reports ``validation_invalid_json``."""

    __slots__ = ("raw",)

    def __init__(self, raw: str) -> None:
        self.raw = raw

    def __eq__(self, other: object) -> bool:
        return isinstance(other, InvalidJSON) and other.raw == self.raw

    def __hash__(self) -> int:
        return hash(self.raw)

    def __repr__(self) -> str:
        return f"InvalidJSON({self.raw!r})"


# =========================================================================== option checks


def _threshold_min(threshold: Any) -> FieldError:
    return _err(
        "validation_min_greater_equal_than_required",
        f"Must be no less than {go_sprint(threshold)}",
        {"threshold": threshold},
    )


def _threshold_max(threshold: Any) -> FieldError:
    return _err(
        "validation_max_less_equal_than_required",
        f"Must be no greater than {go_sprint(threshold)}",
        {"threshold": threshold},
    )


def _check_int(value: Any, lo: int | None = None, hi: int | None = None) -> FieldError | None:
    """ozzo's ``Min``/``Max`` threshold rules (they skip the zero value)."""
    if not value:
        return None
    if lo is not None and value < lo:
        return _threshold_min(lo)
    if hi is not None and value > hi:
        return _threshold_max(hi)
    return None


def _regex_problem(pattern: Any) -> FieldError | None:
    if not pattern:
        return None
    problem = go_regex_error(str(pattern))
    return _err("validation_invalid_regex", problem) if problem else None


def _domains_problem(own: Any, other: Any) -> Any:
    if other:
        return _err("validation_empty", "Must be blank.") if own else None
    bad = {
        str(i): _err("validation_is_domain", "Must be a valid domain.")
        for i, d in enumerate(own or [])
        if d and not is_domain(str(d))
    }
    return bad or None


def _collect(**problems: Any) -> dict[str, Any]:
    return {key: problem for key, problem in problems.items() if problem is not None}


# =========================================================================== field types


class _FieldType(BaseFieldType):
    #: Whether the field JSON has ``help`` and ``required`` (autodate has neither).
    input_keys: ClassVar[bool] = True
    #: How each option is decoded from the posted JSON: int, float?, str, bool, strlist, date.
    option_kinds: ClassVar[Mapping[str, str]] = {}

    def is_blank(self, field: Mapping[str, Any], value: Any) -> bool:
        return value in (None, "")

    def validate(self, field: Mapping[str, Any], value: Any) -> FieldError | None:
        if field.get("required") and self.is_blank(field, value):
            return _required()
        return None


class TextType(_FieldType):
    """``text``: any string; ``min``/``max`` (0 = 5000) characters, ``pattern`` (Go regexp),
    ``autogeneratePattern`` for empty values on create, ``primaryKey`` for the ``id`` field."""

    name = "text"
    options = {"autogeneratePattern": "", "max": 0, "min": 0, "pattern": "", "primaryKey": False}
    option_kinds = {
        "autogeneratePattern": "str", "max": "int", "min": "int", "pattern": "str", "primaryKey": "bool",
    }

    def column_definition(self, field: Mapping[str, Any]) -> str:
        if field.get("primaryKey"):
            return "TEXT PRIMARY KEY DEFAULT ('r'||lower(hex(randomblob(7)))) NOT NULL"
        return "TEXT DEFAULT '' NOT NULL"

    def normalize(self, field: Mapping[str, Any], value: Any) -> str:
        return cast_to_string(value)

    def validate_plain(self, field: Mapping[str, Any], value: str) -> FieldError | None:
        """PocketBase's ``ValidatePlainValue``: required, min, max, pattern."""
        if (field.get("required") or field.get("primaryKey")) and value == "":
            return _required()
        if value == "":
            return None
        length = len(value)
        minimum = int(field.get("min") or 0)
        if minimum > 0 and length < minimum:
            message = f"Must be at least {minimum} character(s)"
            return _err("validation_min_text_constraint", message, {"min": minimum})
        maximum = int(field.get("max") or 0) or TEXT_DEFAULT_MAX
        if maximum > 0 and length > maximum:
            message = f"Must be no more than {maximum} character(s)"
            return _err("validation_max_text_constraint", message, {"max": maximum})
        pattern = field.get("pattern")
        if pattern and not go_regex_match(str(pattern), value):
            return _err("validation_invalid_format", "Invalid value format")
        return None

    def validate(self, field: Mapping[str, Any], value: Any) -> FieldError | None:
        """The checks of a new value. For the primary key these are the create-time checks
        (plus the forbidden ``/`` and ``\\``); the records layer checks a changed id
        (``validation_pk_change``) and duplicates (``validation_pk_invalid``) itself."""
        value = cast_to_string(value)
        problem = self.validate_plain(field, value)
        if problem is not None or not field.get("primaryKey"):
            return problem
        for ch in ("/", "\\"):
            if ch in value:
                message = f"'{ch}' is not a valid primary key character."
                return _err("validation_forbidden_pk_character", message, {"ch": ch})
        return None

    def autogenerate(self, field: Mapping[str, Any]) -> str | None:
        """A random value from ``autogeneratePattern`` (None without one)."""
        pattern = field.get("autogeneratePattern")
        return generate_from_pattern(str(pattern)) if pattern else None

    def from_db(self, field: Mapping[str, Any], raw: Any) -> str:
        return cast_to_string(raw)

    def check_options(self, field: Mapping[str, Any]) -> dict[str, Any]:
        pk = bool(field.get("primaryKey"))
        minimum = field.get("min") or 0
        maximum = field.get("max") or 0
        problems = _collect(
            min=_check_int(minimum, 0, MAX_SAFE_JSON_INT),
            max=_check_int(maximum, minimum, MAX_SAFE_JSON_INT),
            pattern=_required() if pk and not field.get("pattern") else _regex_problem(field.get("pattern")),
            hidden=_err("validation_empty", "Must be blank.") if pk and field.get("hidden") else None,
            required=_required() if pk and not field.get("required") else None,
            autogeneratePattern=self._autogenerate_problem(field),
        )
        if pk and field.get("name") != "id":
            problems["name"] = _err("validation_in_invalid", 'The primary key must be named "id".')
        return problems

    def _autogenerate_problem(self, field: Mapping[str, Any]) -> FieldError | None:
        pattern = field.get("autogeneratePattern")
        if not pattern:
            return None
        problem = _regex_problem(pattern)
        if problem is not None:
            return problem
        for _ in range(10):
            try:
                sample = generate_from_pattern(str(pattern))
            except ValueError as exc:
                return _err("validation_invalid_autogenerate_pattern", str(exc))
            if self.validate_plain(field, sample) is not None:
                return _err(
                    "validation_invalid_autogenerate_pattern_value",
                    "The provided autogenerate pattern could produce invalid field values, "
                    f"ex.: {go_quote(sample)}",
                )
        return None


class EditorType(_FieldType):
    """``editor``: HTML text; ``maxSize`` in bytes (0 = 5 MiB)."""

    name = "editor"
    options = {"convertURLs": False, "maxSize": 0}
    option_kinds = {"convertURLs": "bool", "maxSize": "int"}

    def normalize(self, field: Mapping[str, Any], value: Any) -> str:
        return cast_to_string(value)

    def validate(self, field: Mapping[str, Any], value: Any) -> FieldError | None:
        value = cast_to_string(value)
        if field.get("required") and value == "":
            return _required()
        max_size = int(field.get("maxSize") or 0)
        if max_size <= 0:
            max_size = EDITOR_DEFAULT_MAX_SIZE
        if len(value.encode("utf-8", "surrogatepass")) > max_size:
            return _err(
                "validation_content_size_limit",
                f"The maximum allowed content size is {max_size} bytes",
                {"maxSize": max_size},
            )
        return None

    def from_db(self, field: Mapping[str, Any], raw: Any) -> str:
        return cast_to_string(raw)

    def check_options(self, field: Mapping[str, Any]) -> dict[str, Any]:
        return _collect(maxSize=_check_int(field.get("maxSize") or 0, 0, MAX_SAFE_JSON_INT))


class NumberType(_FieldType):
    """``number``: a float64; ``min``/``max`` (null = none), ``onlyInt``; required = non-zero.
    Zero is never checked against ``min``/``max`` (as in PocketBase)."""

    name = "number"
    options = {"max": None, "min": None, "onlyInt": False}
    option_kinds = {"max": "float?", "min": "float?", "onlyInt": "bool"}

    def column_definition(self, field: Mapping[str, Any]) -> str:
        return "NUMERIC DEFAULT 0 NOT NULL"

    def zero_value(self, field: Mapping[str, Any]) -> int:
        return 0

    def is_blank(self, field: Mapping[str, Any], value: Any) -> bool:
        return cast_to_float(value) == 0

    def normalize(self, field: Mapping[str, Any], value: Any) -> int | float:
        return go_number(cast_to_float(value))

    def validate(self, field: Mapping[str, Any], value: Any) -> FieldError | None:
        f = cast_to_float(value)
        if math.isinf(f) or math.isnan(f):
            return _err("validation_not_a_number", "The submitted number is not properly formatted")
        if f == 0:
            return _required() if field.get("required") else None
        if field.get("onlyInt") and not _is_int64(f):
            return _err("validation_only_int_constraint", "Decimal numbers are not allowed")
        minimum = field.get("min")
        if _is_number(minimum) and f < minimum:
            return _err(
                "validation_min_number_constraint",
                f"Must be greater or equal than {go_sprint(float(minimum))}",
                {"min": go_number(minimum)},
            )
        maximum = field.get("max")
        if _is_number(maximum) and f > maximum:
            return _err(
                "validation_max_number_constraint",
                f"Must be less or equal than {go_sprint(float(maximum))}",
                {"max": go_number(maximum)},
            )
        return None

    def to_db(self, field: Mapping[str, Any], value: Any) -> int | float:
        f = cast_to_float(value)
        if math.isfinite(f) and f.is_integer() and -(2**63) <= f < 2**63:
            return int(f)
        return f

    def from_db(self, field: Mapping[str, Any], raw: Any) -> int | float:
        if raw is None:
            return 0
        return go_number(cast_to_float(raw))

    def check_options(self, field: Mapping[str, Any]) -> dict[str, Any]:
        only_int = bool(field.get("onlyInt"))
        minimum, maximum = field.get("min"), field.get("max")

        def int_problem(v: Any) -> FieldError | None:
            if only_int and _is_number(v) and not _is_int64(float(v)):
                return _err("validation_only_int_constraint", "Decimal numbers are not allowed.")
            return None

        max_problem = int_problem(maximum)
        if max_problem is None and _is_number(minimum) and _is_number(maximum) and maximum < minimum:
            max_problem = _err(
                "validation_min_number_constraint",
                f"Must be greater or equal than {go_sprint(float(minimum))}",
                {"min": go_number(minimum)},
            )
        return _collect(min=int_problem(minimum), max=max_problem)


def _is_int64(f: float) -> bool:
    """``f == float64(int64(f))`` on amd64 (out-of-range conversions never compare equal)."""
    return math.isfinite(f) and -(2**63) <= f < 2**63 and f.is_integer()


class BoolType(_FieldType):
    """``bool``; required = must be true."""

    name = "bool"

    def column_definition(self, field: Mapping[str, Any]) -> str:
        return "BOOLEAN DEFAULT FALSE NOT NULL"

    def zero_value(self, field: Mapping[str, Any]) -> bool:
        return False

    def is_blank(self, field: Mapping[str, Any], value: Any) -> bool:
        return not cast_to_bool(value)

    def normalize(self, field: Mapping[str, Any], value: Any) -> bool:
        return cast_to_bool(value)

    def to_db(self, field: Mapping[str, Any], value: Any) -> int:
        return 1 if cast_to_bool(value) else 0

    def from_db(self, field: Mapping[str, Any], raw: Any) -> bool:
        return cast_to_bool(raw)


class EmailType(_FieldType):
    """``email``: govalidator's email format; ``onlyDomains``/``exceptDomains`` compare the
    part after the last ``@`` exactly (case-sensitive)."""

    name = "email"
    options = {"exceptDomains": [], "onlyDomains": []}
    option_kinds = {"exceptDomains": "strlist", "onlyDomains": "strlist"}

    def normalize(self, field: Mapping[str, Any], value: Any) -> str:
        return cast_to_string(value)

    def validate(self, field: Mapping[str, Any], value: Any) -> FieldError | None:
        value = cast_to_string(value)
        if field.get("required") and value == "":
            return _required()
        if value == "":
            return None
        if not is_email(value):
            return _err("validation_is_email", "Must be a valid email address.")
        domain = value[value.rfind("@") + 1:]
        only, excluded = field.get("onlyDomains") or [], field.get("exceptDomains") or []
        if (only and domain not in only) or (excluded and domain in excluded):
            return _err("validation_email_domain_not_allowed", "Email domain is not allowed")
        return None

    def from_db(self, field: Mapping[str, Any], raw: Any) -> str:
        return cast_to_string(raw)

    def check_options(self, field: Mapping[str, Any]) -> dict[str, Any]:
        only, excluded = field.get("onlyDomains") or [], field.get("exceptDomains") or []
        return _collect(
            exceptDomains=_domains_problem(excluded, only), onlyDomains=_domains_problem(only, excluded)
        )


class URLType(EmailType):
    """``url``: govalidator's URL format; ``onlyDomains``/``exceptDomains`` compare Go's
    ``url.Parse(value).Host`` (port included, empty without a scheme)."""

    name = "url"

    def validate(self, field: Mapping[str, Any], value: Any) -> FieldError | None:
        value = cast_to_string(value)
        if field.get("required") and value == "":
            return _required()
        if value == "":
            return None
        if not is_url(value):
            return _err("validation_invalid_url", "Must be a valid url")
        parsed = go_url_parse(value)
        host = parsed[1] if parsed else ""
        only, excluded = field.get("onlyDomains") or [], field.get("exceptDomains") or []
        if (only and host not in only) or (excluded and host in excluded):
            return _err("validation_url_domain_not_allowed", "Url domain is not allowed")
        return None


class DateType(_FieldType):
    """``date``: stored as ``YYYY-MM-DD HH:MM:SS.mmmZ`` (UTC); ``min``/``max`` inclusive.
    Values are compared at millisecond precision (PocketBase compares the unrounded input)."""

    name = "date"
    options = {"max": "", "min": ""}
    option_kinds = {"max": "date", "min": "date"}

    def normalize(self, field: Mapping[str, Any], value: Any) -> str:
        return parse_datetime(value)

    def validate(self, field: Mapping[str, Any], value: Any) -> FieldError | None:
        if not (isinstance(value, str) and _CANONICAL_DATE.fullmatch(value)):
            value = parse_datetime(value)
        if value == "":
            return _required() if field.get("required") else None
        for key, code, words in (
            ("min", "validation_min_greater_equal_than_required", "no less"),
            ("max", "validation_max_less_equal_than_required", "no greater"),
        ):
            bound = field.get(key)
            if not bound:
                continue
            bound = bound if _CANONICAL_DATE.fullmatch(str(bound)) else parse_datetime(bound)
            if not bound:
                continue
            if key == "min":
                too_far = _date_key(value) < _date_key(bound)
            else:
                too_far = _date_key(value) > _date_key(bound)
            if too_far:
                message = f"Must be {words} than {_go_time_string(bound)}"
                return _err(code, message, {"threshold": _go_time_json(bound)})
        return None

    def from_db(self, field: Mapping[str, Any], raw: Any) -> str:
        if isinstance(raw, str) and (raw == "" or _CANONICAL_DATE.fullmatch(raw)):
            return raw
        return parse_datetime(raw)


class AutodateType(DateType):
    """``autodate``: set by the records layer on create (``onCreate``) and/or update
    (``onUpdate``); client input is ignored and never fails validation. Unlike other fields it
    has no ``help``/``required``; PocketBase's defaults for missing options are both false."""

    name = "autodate"
    input_keys = False
    options = {"onCreate": False, "onUpdate": False}
    option_kinds = {"onCreate": "bool", "onUpdate": "bool"}

    def validate(self, field: Mapping[str, Any], value: Any) -> FieldError | None:
        return None

    def check_options(self, field: Mapping[str, Any]) -> dict[str, Any]:
        if field.get("onCreate") or field.get("onUpdate"):
            return {}
        message = "Either onCreate or onUpdate must be enabled."
        return {
            "onCreate": _err("validation_required", message),
            "onUpdate": _err("validation_required", message),
        }


class _MultiType(_FieldType):
    """Shared by select, relation and file: single (``maxSelect`` ≤ 1, TEXT) or multiple."""

    def is_multiple(self, field: Mapping[str, Any]) -> bool:
        return int(field.get("maxSelect") or 0) > 1

    def column_definition(self, field: Mapping[str, Any]) -> str:
        return "JSON DEFAULT '[]' NOT NULL" if self.is_multiple(field) else "TEXT DEFAULT '' NOT NULL"

    def zero_value(self, field: Mapping[str, Any]) -> Any:
        return [] if self.is_multiple(field) else ""

    def is_blank(self, field: Mapping[str, Any], value: Any) -> bool:
        return not self.items(value)

    def items(self, value: Any) -> list[Any]:
        return to_unique_string_slice(value)

    def normalize(self, field: Mapping[str, Any], value: Any) -> Any:
        """A list for multiple fields; the last value for single ones (``["a", "b"]`` → ``"b"``)."""
        items = self.items(value)
        if self.is_multiple(field):
            return items
        return items[-1] if items else ""

    def to_db(self, field: Mapping[str, Any], value: Any) -> str:
        value = self.normalize(field, value)
        if self.is_multiple(field):
            return _dump_json([self.item_name(v) for v in value])
        return self.item_name(value)

    def item_name(self, item: Any) -> str:
        return cast_to_string(item)

    def from_db(self, field: Mapping[str, Any], raw: Any) -> Any:
        if isinstance(raw, bytes):
            raw = raw.decode("utf-8", "replace")
        return self.normalize(field, raw)

    def _too_many(self, field: Mapping[str, Any], count: int) -> FieldError | None:
        max_select = max(int(field.get("maxSelect") or 0), 1)
        if count > max_select:
            message = f"Select no more than {max_select}"
            return _err("validation_too_many_values", message, {"maxSelect": max_select})
        return None


class SelectType(_MultiType):
    """``select``: values from ``values``; ``maxSelect`` > 1 makes it multiple."""

    name = "select"
    options = {"maxSelect": 0, "values": []}
    option_kinds = {"maxSelect": "int", "values": "strlist"}

    def validate(self, field: Mapping[str, Any], value: Any) -> FieldError | None:
        items = self.items(value)
        if not items:
            return _required() if field.get("required") else None
        problem = self._too_many(field, len(items))
        if problem is not None:
            return problem
        allowed = field.get("values") or []
        for item in items:
            if item not in allowed:
                return _err("validation_invalid_value", f"Invalid value {item}", {"value": item})
        return None

    def check_options(self, field: Mapping[str, Any]) -> dict[str, Any]:
        values = field.get("values") or []
        return _collect(
            values=None if values else _required(),
            maxSelect=_check_int(field.get("maxSelect") or 0, 0, max(len(values), 1)),
        )


class RelationType(_MultiType):
    """``relation``: record ids of ``collectionId``; ``minSelect``/``maxSelect``. Whether the
    ids exist (``validation_missing_rel_records``) needs the database and is checked by the
    records layer after this validation passes."""

    name = "relation"
    options = {"cascadeDelete": False, "collectionId": "", "maxSelect": 0, "minSelect": 0}
    option_kinds = {"cascadeDelete": "bool", "collectionId": "str", "maxSelect": "int", "minSelect": "int"}

    def validate(self, field: Mapping[str, Any], value: Any) -> FieldError | None:
        items = self.items(value)
        if not items:
            return _required() if field.get("required") else None
        min_select = int(field.get("minSelect") or 0)
        if min_select > 0 and len(items) < min_select:
            message = f"Select at least {min_select}"
            return _err("validation_not_enough_values", message, {"minSelect": min_select})
        return self._too_many(field, len(items))

    def check_options(self, field: Mapping[str, Any]) -> dict[str, Any]:
        min_select = int(field.get("minSelect") or 0)
        max_select = int(field.get("maxSelect") or 0)
        if min_select > 0 and not max_select:
            max_problem: FieldError | None = _required()
        else:
            max_problem = _check_int(max_select, min_select)
        return _collect(
            collectionId=None if field.get("collectionId") else _required(),
            minSelect=_check_int(min_select, 0),
            maxSelect=max_problem,
        )


class FileType(_MultiType):
    """``file``: file names (or upload objects with a ``name`` attribute, kept as they are
    until the files plugin stores them). ``validate`` checks ``required`` and ``maxSelect``
    (``validation_too_many_files``) only: rejecting plain-string names that are not already
    on the record (``validation_invalid_file``), ``maxSize`` (default 5 MiB), ``mimeTypes``
    and the uploaded names are the files plugin's checks, since they need the old value and
    the uploads."""

    name = "file"
    options = {"maxSelect": 0, "maxSize": 0, "mimeTypes": [], "protected": False, "thumbs": []}
    option_kinds = {
        "maxSelect": "int", "maxSize": "int", "mimeTypes": "strlist", "protected": "bool", "thumbs": "strlist",
    }

    def items(self, value: Any) -> list[Any]:
        """PocketBase's ``toSliceValue``: names and uploads, unique by name."""
        if value is None:
            found: list[Any] = []
        elif isinstance(value, (list, tuple)):
            found = []
            for v in value:
                sub = self.items(v)
                if len(sub) == 1:
                    found.append(sub[0])
        elif isinstance(value, (str, int, float, bool, Mapping)):
            found = list(to_unique_string_slice(value))
        else:
            found = [value]  # an upload
        out, seen = [], set()
        for item in found:
            key = self.item_name(item)
            if key not in seen:
                seen.add(key)
                out.append(item)
        return out

    def item_name(self, item: Any) -> str:
        if isinstance(item, str):
            return item
        name = getattr(item, "name", None)
        return name if isinstance(name, str) else cast_to_string(item)

    def validate(self, field: Mapping[str, Any], value: Any) -> FieldError | None:
        items = self.items(value)
        if not items:
            return _required() if field.get("required") else None
        max_select = max(int(field.get("maxSelect") or 0), 1)
        if len(items) > max_select:
            message = f"The maximum allowed files is {max_select}"
            return _err("validation_too_many_files", message, {"maxSelect": max_select})
        return None

    def check_options(self, field: Mapping[str, Any]) -> dict[str, Any]:
        thumbs = {}
        for i, thumb in enumerate(field.get("thumbs") or []):
            if not thumb:
                continue
            if thumb in ("0x0", "0x0t", "0x0b", "0x0f"):
                thumbs[str(i)] = _err("validation_not_in_invalid", "Must not be in list.")
            elif not _THUMB.fullmatch(str(thumb)):
                thumbs[str(i)] = _err("validation_match_invalid", "Must be in a valid format.")
        return _collect(
            maxSelect=_check_int(field.get("maxSelect") or 0, 0, MAX_SAFE_JSON_INT),
            maxSize=_check_int(field.get("maxSize") or 0, 0, MAX_SAFE_JSON_INT),
            thumbs=thumbs or None,
        )


class JSONType(_FieldType):
    """``json``: any JSON value, ``maxSize`` in bytes of the stored JSON (0 = 1 MiB);
    required = not ``null``, ``""``, ``[]`` or ``{}``.

    A string input is read the way PocketBase reads multipart values: ``"true"``, ``"null"``,
    ``"[1,2]"``, ``"{...}"``, ``"12"`` and ``"\\"quoted\\""`` are JSON when valid, any other
    string is the JSON string itself. Non-string inputs are re-encoded as Go does (integral
    numbers lose their ``.0``, object keys sorted).
    """

    name = "json"
    options = {"maxSize": 0}
    option_kinds = {"maxSize": "int"}

    def column_definition(self, field: Mapping[str, Any]) -> str:
        return "JSON DEFAULT NULL"

    def zero_value(self, field: Mapping[str, Any]) -> None:
        return None

    def is_blank(self, field: Mapping[str, Any], value: Any) -> bool:
        return value is None or value == "" or value == [] or value == {}

    def normalize(self, field: Mapping[str, Any], value: Any) -> Any:
        if isinstance(value, InvalidJSON):
            return value
        if isinstance(value, str):
            if value in ("null", "true", "false") or (value[:1] and value[0] in '0123456789-"[{'):
                try:
                    return _strict_json_loads(value)
                except ValueError:
                    pass
            if value in ("null", "true", "false"):
                return _strict_json_loads(value)
            quoted = go_quote(value)
            try:
                _strict_json_loads(quoted)
            except ValueError:
                return InvalidJSON(quoted)
            return value
        return _go_json_value(value)

    def raw(self, value: Any) -> str:
        """The JSON text PocketBase would store (for the size limit)."""
        if isinstance(value, InvalidJSON):
            return value.raw
        return go_json_dumps(value)

    def validate(self, field: Mapping[str, Any], value: Any) -> FieldError | None:
        max_size = int(field.get("maxSize") or 0)
        if max_size <= 0:
            max_size = JSON_DEFAULT_MAX_SIZE
        if len(self.raw(value).encode("utf-8", "surrogatepass")) > max_size:
            return _err(
                "validation_json_size_limit",
                f"The maximum allowed JSON size is {max_size} bytes",
                {"maxSize": max_size},
            )
        if isinstance(value, InvalidJSON):
            return _err("validation_invalid_json", "Must be a valid json value")
        if field.get("required") and self.is_blank(field, value):
            return _required()
        return None

    def to_db(self, field: Mapping[str, Any], value: Any) -> str | None:
        if value is None:
            return None
        if isinstance(value, InvalidJSON):
            raise ValueError("invalid JSON value (validate it first)")
        return _dump_json(value)

    def from_db(self, field: Mapping[str, Any], raw: Any) -> Any:
        if raw is None:
            return None
        if isinstance(raw, bytes):
            raw = raw.decode("utf-8", "replace")
        if isinstance(raw, str):
            try:
                return _strict_json_loads(raw)
            except ValueError:
                return raw
        return go_number(raw) if _is_number(raw) else raw

    def check_options(self, field: Mapping[str, Any]) -> dict[str, Any]:
        return _collect(maxSize=_check_int(field.get("maxSize") or 0, 0, MAX_SAFE_JSON_INT))


class PasswordType(_FieldType):
    """``password``: ``validate`` checks the plain password (``min``, ``max`` (0 = 71)
    characters, ``pattern``, at most 72 UTF-8 bytes for bcrypt); the records layer hashes it
    with the ``password_hasher`` service before ``to_db``, which stores the hash as given.
    ``from_db`` returns the stored hash (for sign-in); the API never outputs it."""

    name = "password"
    options = {"cost": 0, "max": 0, "min": 0, "pattern": ""}
    option_kinds = {"cost": "int", "max": "int", "min": "int", "pattern": "str"}

    def normalize(self, field: Mapping[str, Any], value: Any) -> str:
        return cast_to_string(value)

    def validate(self, field: Mapping[str, Any], value: Any) -> FieldError | None:
        value = cast_to_string(value)
        if value == "":
            return _required() if field.get("required") else None
        if len(value.encode("utf-8", "surrogatepass")) > BCRYPT_MAX_BYTES:
            return _err("validation_invalid_value", "Invalid value.")
        length = len(value)
        minimum = int(field.get("min") or 0)
        if length < minimum:
            return _err("validation_min_text_constraint", f"Must be at least {minimum} character(s)")
        maximum = int(field.get("max") or 0)
        if maximum <= 0:
            maximum = PASSWORD_DEFAULT_MAX
        if length > maximum:
            return _err("validation_max_text_constraint", f"Must be less than {maximum} character(s)")
        pattern = field.get("pattern")
        if pattern and not go_regex_match(str(pattern), value):
            return _err("validation_invalid_format", "Invalid value format")
        return None

    def to_db(self, field: Mapping[str, Any], value: Any) -> str:
        return cast_to_string(value)

    def from_db(self, field: Mapping[str, Any], raw: Any) -> str:
        return cast_to_string(raw)

    def check_options(self, field: Mapping[str, Any]) -> dict[str, Any]:
        minimum = field.get("min") or 0
        return _collect(
            min=_check_int(minimum, 1, PASSWORD_DEFAULT_MAX),
            max=_check_int(field.get("max") or 0, minimum, PASSWORD_DEFAULT_MAX),
            cost=_check_int(field.get("cost") or 0, 4, 31),
            pattern=_regex_problem(field.get("pattern")),
        )


class GeoPointType(_FieldType):
    """``geoPoint``: ``{"lon": x, "lat": y}``; required = not (0, 0); lat within ±90, lon
    within ±180 (latitude is reported first)."""

    name = "geoPoint"

    def column_definition(self, field: Mapping[str, Any]) -> str:
        return 'JSON DEFAULT \'{"lon":0,"lat":0}\' NOT NULL'

    def zero_value(self, field: Mapping[str, Any]) -> dict[str, Any]:
        return dict(ZERO_GEO_POINT)

    def is_blank(self, field: Mapping[str, Any], value: Any) -> bool:
        point = self.normalize(field, value)
        return point["lon"] == 0 and point["lat"] == 0

    def normalize(self, field: Mapping[str, Any], value: Any) -> dict[str, Any]:
        """Keys are case-sensitive and read in order; the first non-number stops the reading
        (what PocketBase does with a JSON string; for an object its own order is random)."""
        if isinstance(value, bytes):
            value = value.decode("utf-8", "replace")
        if isinstance(value, str):
            if not value:
                return dict(ZERO_GEO_POINT)
            try:
                value = _strict_json_loads(value)
            except ValueError:
                return dict(ZERO_GEO_POINT)
        point = {"lon": 0.0, "lat": 0.0}
        if isinstance(value, Mapping):
            for key, v in value.items():
                if key not in point or v is None:
                    continue
                if not _is_number(v):
                    break
                try:
                    f = float(v)
                except OverflowError:
                    break
                if not math.isfinite(f):
                    break
                point[key] = f
        return {"lon": go_number(point["lon"]), "lat": go_number(point["lat"])}

    def validate(self, field: Mapping[str, Any], value: Any) -> FieldError | None:
        point = self.normalize(field, value)
        lon, lat = point["lon"], point["lat"]
        if lon == 0 and lat == 0:
            return _required() if field.get("required") else None
        if lat < -90 or lat > 90:
            return _err("validation_invalid_latitude", "Latitude must be between -90 and 90 degrees.")
        if lon < -180 or lon > 180:
            return _err("validation_invalid_longitude", "Longitude must be between -180 and 180 degrees.")
        return None

    def to_db(self, field: Mapping[str, Any], value: Any) -> str:
        point = self.normalize(field, value)
        return '{"lon":' + go_json_dumps(point["lon"]) + ',"lat":' + go_json_dumps(point["lat"]) + "}"

    def from_db(self, field: Mapping[str, Any], raw: Any) -> dict[str, Any]:
        return self.normalize(field, raw)


# =========================================================================== field JSON


class FieldFormatError(ValueError):
    """A posted field PocketBase cannot even decode (unknown type, ``"max": "5"``, ``5.5``
    for an integer option ...): the collection API answers 400 "Failed to load the submitted
    data due to invalid formatting." with no field details."""


_COMMON_KINDS = {
    "hidden": "bool", "id": "str", "name": "str", "presentable": "bool", "system": "bool", "type": "str",
}
_INPUT_KINDS = {"help": "str", "required": "bool"}


def _decode_option(key: str, kind: str, value: Any) -> Any:
    """One field key as Go's ``json.Unmarshal`` decodes it into the field struct."""
    if kind == "bool":
        if value is None:
            return False
        if isinstance(value, bool):
            return value
    elif kind == "str":
        if value is None:
            return ""
        if isinstance(value, str):
            return value
    elif kind == "int":
        if value is None:
            return 0
        if isinstance(value, int) and not isinstance(value, bool) and -(2**63) <= value < 2**63:
            return value
    elif kind == "float?":
        if value is None:
            return None
        if _is_number(value):
            return go_number(value)
    elif kind == "strlist":
        if value is None:
            return []
        if isinstance(value, list) and all(v is None or isinstance(v, str) for v in value):
            return ["" if v is None else v for v in value]
    elif kind == "date":
        if value is None:
            return ""
        if isinstance(value, str):
            return parse_datetime(value)
    else:
        return value
    raise FieldFormatError(f"invalid value for field option {key!r}")


def _infer_kind(default: Any) -> str:
    if isinstance(default, bool):
        return "bool"
    if isinstance(default, int):
        return "int"
    if isinstance(default, str):
        return "str"
    if default is None:
        return "any"
    if isinstance(default, list):
        return "strlist"
    return "any"


def field_id(field_type: str, name: str) -> str:
    """PocketBase's default field id: the type and the CRC32 of the name."""
    return f"{field_type}{zlib.crc32(name.encode())}"


def complete_field(data: Mapping[str, Any], field_types: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The field JSON PocketBase stores for a posted one: common keys and the type's options
    filled with their defaults, unknown keys dropped, ``id`` defaulted to type + CRC32(name),
    date options normalised, keys sorted as PocketBase outputs them.

    Raises ``FieldFormatError`` where PocketBase fails to decode the field.
    """
    if field_types is None:
        field_types = BUILTIN_FIELD_TYPES
    if not isinstance(data, Mapping):
        raise FieldFormatError("a field must be an object")
    ftype = data.get("type")
    if not isinstance(ftype, str) or ftype not in field_types:
        raise FieldFormatError(f"unknown field type {ftype!r}")
    impl = field_types[ftype]
    kinds: dict[str, str] = dict(_COMMON_KINDS)
    if getattr(impl, "input_keys", True):
        kinds.update(_INPUT_KINDS)
    declared = getattr(impl, "option_kinds", {}) or {}
    defaults = dict(getattr(impl, "options", {}) or {})
    for key, default in defaults.items():
        kinds[key] = declared.get(key) or _infer_kind(default)
    out: dict[str, Any] = {}
    for key, kind in kinds.items():
        if key in data:
            out[key] = _decode_option(key, kind, data[key])
        elif key in defaults:
            default = defaults[key]
            out[key] = list(default) if isinstance(default, list) else default
        else:
            out[key] = _decode_option(key, kind, None)
    out["type"] = ftype
    if not out.get("id"):
        out["id"] = field_id(ftype, out.get("name", ""))
    return dict(sorted(out.items()))


# =========================================================================== registry

BUILTIN_FIELD_TYPES: dict[str, Any] = {
    t.name: t
    for t in (
        TextType(),
        EditorType(),
        NumberType(),
        BoolType(),
        EmailType(),
        URLType(),
        DateType(),
        AutodateType(),
        SelectType(),
        JSONType(),
        RelationType(),
        FileType(),
        PasswordType(),
        GeoPointType(),
    )
}
