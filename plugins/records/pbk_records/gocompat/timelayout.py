"""Go's ``time.Parse`` for a layout given as tokens, with cast's re-dating of zones.

A layout is a tuple of tokens: Go's layout elements (``"2006"``, ``"Jan"``, ``"Z07:00"`` ...)
and literal text between them (``"-"``, ``", "``). Each element has a small reader in
``_READERS``; the quirks are Go's (named zones keep the wall clock, ``GMT+3`` shifts it, a
fraction after the seconds is read even when the layout has none).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

SHORT_DAYS = ("Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat")
LONG_DAYS = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")
SHORT_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

#: cast's time format kinds: how ``cast.ToTime`` treats what a layout read.
NO_TZ, NAMED_TZ, NUMERIC_TZ, NUMERIC_AND_NAMED_TZ, TIME_ONLY = range(5)

_FRACTIONS = (".000", ".000000", ".000000000", ".999999999")


@dataclass(slots=True)
class _Reading:
    """What ``time.Parse`` has read so far from the value (its local variables)."""

    tokens: tuple[str, ...]
    index: int = 0
    year: int = 0
    month: int = -1
    day: int = -1
    hour: int = 0
    minute: int = 0
    second: int = 0
    nsec: int = 0
    pm: bool = False
    am: bool = False
    utc: bool = False
    offset: int | None = None
    zone_name: str = ""


#: A layout element's reader: consumes the start of the value into the reading and returns
#: the rest of the value, or None where Go's ``time.Parse`` fails.
_Reader = Callable[[_Reading, str], str | None]


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


def _next_element(tokens: tuple[str, ...], start: int) -> str | None:
    for tok in tokens[start:]:
        if tok in _READERS:
            return tok
    return None


def days_in(month: int, year: int) -> int:
    if month == 2:
        return 29 if year % 4 == 0 and (year % 100 != 0 or year % 400 == 0) else 28
    return 30 if month in (4, 6, 9, 11) else 31


def days_from_civil(y: int, m: int, d: int) -> int:
    """Days since 1970-01-01 of a proleptic Gregorian date (any year, 0 and negative too)."""
    y -= m <= 2
    era = y // 400
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def civil_from_days(z: int) -> tuple[int, int, int]:
    """The (year, month, day) ``z`` days after 1970-01-01; ``days_from_civil`` reversed."""
    z += 719468
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + (3 if mp < 10 else -9)
    return yoe + era * 400 + (m <= 2), m, d


# --------------------------------------------------------------------------- element readers


def _year4(r: _Reading, value: str) -> str | None:
    if len(value) < 4 or not value[:4].isascii() or not value[:4].isdigit():
        return None
    r.year = int(value[:4])
    return value[4:]


def _year2(r: _Reading, value: str) -> str | None:
    if len(value) < 2 or not value[:2].isascii() or not value[:2].isdigit():
        return None
    year = int(value[:2])
    r.year = year + (1900 if year >= 69 else 2000)
    return value[2:]


def _number(r: _Reading, value: str, *, into: str, fixed: bool, lo: int, hi: int) -> str | None:
    """A one- or two-digit number (exactly two when ``fixed``) within ``lo..hi``, kept as
    the reading's ``into``."""
    got = _getnum(value, fixed)
    if got is None or not lo <= got[0] <= hi:
        return None
    setattr(r, into, got[0])
    return got[1]


def _month_name(r: _Reading, value: str) -> str | None:
    found = _lookup(SHORT_MONTHS, value)
    if found is None:
        return None
    r.month = found[0] + 1
    return found[1]


def _padded_day(r: _Reading, value: str) -> str | None:
    """``_2``: one or two digits, maybe after a space."""
    if value[:1] == " ":
        value = value[1:]
    return _number(r, value, into="day", fixed=False, lo=0, hi=99)


def _fraction(r: _Reading, value: str) -> str | None:
    """A ``.`` or ``,`` and every digit after it (at least one), kept as nanoseconds."""
    n = 1
    while _is_digit(value, n):
        n += 1
    parsed = _parse_nanos(value, n)
    if parsed is None:
        return None
    r.nsec = parsed
    return value[n:]


def _starts_fraction(value: str) -> bool:
    return len(value) >= 2 and value[0] in ".," and _is_digit(value, 1)


def _second(r: _Reading, value: str) -> str | None:
    rest = _number(r, value, into="second", fixed=True, lo=0, hi=59)
    if rest is None:
        return None
    # a fraction right after the seconds is accepted even when the layout has none
    if _starts_fraction(rest) and _next_element(r.tokens, r.index + 1) not in _FRACTIONS:
        return _fraction(r, rest)
    return rest


def _fixed_fraction(r: _Reading, value: str, *, width: int) -> str | None:
    """``.000``, ``.000000``, ``.000000000``: exactly that many digits."""
    if len(value) < width:
        return None
    parsed = _parse_nanos(value, width)
    if parsed is None or len(value[1:width]) != width - 1 or not value[1:width].isdigit():
        return None
    r.nsec = parsed
    return value[width:]


def _optional_fraction(r: _Reading, value: str) -> str | None:
    """``.999999999``: any number of digits, or none at all."""
    return _fraction(r, value) if _starts_fraction(value) else value


def _meridiem(r: _Reading, value: str) -> str | None:
    if value[:2] == "PM":
        r.pm = True
    elif value[:2] == "AM":
        r.am = True
    else:
        return None
    return value[2:]


def _weekday(r: _Reading, value: str, *, names: tuple[str, ...]) -> str | None:
    found = _lookup(names, value)
    return None if found is None else found[1]


def _zone_name(r: _Reading, value: str) -> str | None:
    if value[:3] == "UTC":
        r.utc = True
        return value[3:]
    n = _timezone_len(value)
    if n == 0:
        return None
    r.zone_name = value[:n]
    return value[n:]


def _numeric_zone(r: _Reading, value: str, *, colon: bool, z_is_utc: bool) -> str | None:
    """``-0700``, ``-07:00`` and their ``Z`` forms (``Z0700``, ``Z07:00``) that also take ``Z``."""
    if z_is_utc and value[:1] == "Z":
        r.utc = True
        return value[1:]
    width = 6 if colon else 5
    if len(value) < width or value[0] not in "+-" or (colon and value[3] != ":"):
        return None
    hh, mm = value[1:3], value[4:6] if colon else value[3:5]
    if not (hh.isascii() and hh.isdigit() and mm.isascii() and mm.isdigit()):
        return None
    if int(hh) > 24 or int(mm) > 60:
        return None
    r.offset = (int(hh) * 60 + int(mm)) * 60 * (-1 if value[0] == "-" else 1)
    return value[width:]


_READERS: dict[str, _Reader] = {
    "2006": _year4,
    "06": _year2,
    "01": partial(_number, into="month", fixed=True, lo=1, hi=12),
    "Jan": _month_name,
    "02": partial(_number, into="day", fixed=True, lo=0, hi=99),
    "_2": _padded_day,
    "15": partial(_number, into="hour", fixed=False, lo=0, hi=23),
    "3": partial(_number, into="hour", fixed=False, lo=0, hi=12),
    "04": partial(_number, into="minute", fixed=True, lo=0, hi=59),
    "05": _second,
    ".000": partial(_fixed_fraction, width=4),
    ".000000": partial(_fixed_fraction, width=7),
    ".000000000": partial(_fixed_fraction, width=10),
    ".999999999": _optional_fraction,
    "PM": _meridiem,
    "Mon": partial(_weekday, names=SHORT_DAYS),
    "Monday": partial(_weekday, names=LONG_DAYS),
    "MST": _zone_name,
    "-0700": partial(_numeric_zone, colon=False, z_is_utc=False),
    "-07:00": partial(_numeric_zone, colon=True, z_is_utc=False),
    "Z0700": partial(_numeric_zone, colon=False, z_is_utc=True),
    "Z07:00": partial(_numeric_zone, colon=True, z_is_utc=True),
}


# --------------------------------------------------------------------------- parse


def parse_layout(tokens: tuple[str, ...], kind: int, value: str) -> tuple[int, int] | None:
    """Go's ``time.Parse`` with ``tokens`` as the layout, followed by cast's re-dating of
    zone-less and named-zone layouts; (unix seconds, nanoseconds) or None."""
    reading = _Reading(tokens)
    for i, tok in enumerate(tokens):
        reader = _READERS.get(tok)
        if reader is None:
            rest = _skip(value, tok)
        else:
            reading.index = i
            rest = reader(reading, value)
        if rest is None:
            return None
        value = rest
    if value:
        return None
    return _instant(reading, kind)


def _instant(r: _Reading, kind: int) -> tuple[int, int] | None:
    """(unix seconds, nanoseconds) of a complete reading, None for a day the month lacks."""
    hour = r.hour
    if r.pm and hour < 12:
        hour += 12
    elif r.am and hour == 12:
        hour = 0
    month = 1 if r.month < 0 else r.month
    day = 1 if r.day < 0 else r.day
    if day < 1 or day > days_in(month, r.year):
        return None
    wall = days_from_civil(r.year, month, day) * 86400 + hour * 3600 + r.minute * 60 + r.second
    if r.utc:
        return wall, r.nsec
    if r.offset is not None:
        return wall - r.offset, r.nsec
    # Go keeps the wall clock in a fake zone with an unknown offset (GMT+N: N hours);
    # cast then reads the wall clock back in that zone and re-dates it in UTC
    if kind <= NAMED_TZ and len(r.zone_name) > 3 and r.zone_name[:3] == "GMT":
        return wall + int(r.zone_name[3:]) * 3600, r.nsec
    return wall, r.nsec
