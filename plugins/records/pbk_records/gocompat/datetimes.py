"""PocketBase's ``types.DateTime``: how a date input is read, stored and shown.

A date is stored as ``YYYY-MM-DD HH:MM:SS.mmmZ`` in UTC. ``DateTime.Scan`` tries
PocketBase's own layout first, then ``cast.ToTime``'s list of layouts, in order; messages
show Go's ``time.Time.String()`` and params its JSON (RFC 3339 nano).
"""

from __future__ import annotations

import re
from typing import Any

from .timelayout import (
    NAMED_TZ,
    NO_TZ,
    NUMERIC_AND_NAMED_TZ,
    NUMERIC_TZ,
    TIME_ONLY,
    civil_from_days,
    days_from_civil,
    parse_layout,
)


def _layout(*tokens: str) -> tuple[str, ...]:
    return tokens


#: PocketBase's own layout, tried before cast's.
_DEFAULT_LAYOUT = (
    _layout("2006", "-", "01", "-", "02", " ", "15", ":", "04", ":", "05", ".000", "Z"),
    NO_TZ,
)
#: ``cast.ToTime``'s layouts, in the order it tries them.
_CAST_LAYOUTS: tuple[tuple[tuple[str, ...], int], ...] = (
    (_layout("2006", "-", "01", "-", "02"), NO_TZ),
    (_layout("2006", "-", "01", "-", "02", "T", "15", ":", "04", ":", "05", "Z07:00"), NUMERIC_TZ),
    (_layout("2006", "-", "01", "-", "02", "T", "15", ":", "04", ":", "05"), NO_TZ),
    (_layout("Mon", ", ", "02", " ", "Jan", " ", "2006", " ", "15", ":", "04", ":", "05", " ", "-0700"), NUMERIC_TZ),
    (_layout("Mon", ", ", "02", " ", "Jan", " ", "2006", " ", "15", ":", "04", ":", "05", " ", "MST"), NAMED_TZ),
    (_layout("02", " ", "Jan", " ", "06", " ", "15", ":", "04", " ", "-0700"), NUMERIC_TZ),
    (_layout("02", " ", "Jan", " ", "06", " ", "15", ":", "04", " ", "MST"), NAMED_TZ),
    (_layout("Monday", ", ", "02", "-", "Jan", "-", "06", " ", "15", ":", "04", ":", "05", " ", "MST"), NAMED_TZ),
    (
        _layout("2006", "-", "01", "-", "02", " ", "15", ":", "04", ":", "05", ".999999999", " ", "-0700", " ", "MST"),
        NUMERIC_AND_NAMED_TZ,
    ),
    (_layout("2006", "-", "01", "-", "02", "T", "15", ":", "04", ":", "05", "-0700"), NUMERIC_TZ),
    (_layout("2006", "-", "01", "-", "02", " ", "15", ":", "04", ":", "05", "Z0700"), NUMERIC_TZ),
    (_layout("2006", "-", "01", "-", "02", " ", "15", ":", "04", ":", "05"), NO_TZ),
    (_layout("Mon", " ", "Jan", " ", "_2", " ", "15", ":", "04", ":", "05", " ", "2006"), NO_TZ),
    (_layout("Mon", " ", "Jan", " ", "_2", " ", "15", ":", "04", ":", "05", " ", "MST", " ", "2006"), NAMED_TZ),
    (_layout("Mon", " ", "Jan", " ", "02", " ", "15", ":", "04", ":", "05", " ", "-0700", " ", "2006"), NUMERIC_TZ),
    (_layout("2006", "-", "01", "-", "02", " ", "15", ":", "04", ":", "05", "Z07:00"), NUMERIC_TZ),
    (_layout("02", " ", "Jan", " ", "2006"), NO_TZ),
    (_layout("2006", "-", "01", "-", "02", " ", "15", ":", "04", ":", "05", " ", "-07:00"), NUMERIC_TZ),
    (_layout("2006", "-", "01", "-", "02", " ", "15", ":", "04", ":", "05", " ", "-0700"), NUMERIC_TZ),
    (_layout("3", ":", "04", "PM"), TIME_ONLY),
    (_layout("Jan", " ", "_2", " ", "15", ":", "04", ":", "05"), TIME_ONLY),
    (_layout("Jan", " ", "_2", " ", "15", ":", "04", ":", "05", ".000"), TIME_ONLY),
    (_layout("Jan", " ", "_2", " ", "15", ":", "04", ":", "05", ".000000"), TIME_ONLY),
    (_layout("Jan", " ", "_2", " ", "15", ":", "04", ":", "05", ".000000000"), TIME_ONLY),
)

#: time.Time{} (0001-01-01 00:00:00 UTC) in seconds since the Unix epoch.
_ZERO_TIME = days_from_civil(1, 1, 1) * 86400


def _format_year(year: int) -> str:
    return f"-{-year:04d}" if year < 0 else f"{year:04d}"


def _instant_parts(seconds: int) -> tuple[int, int, int, int, int, int]:
    days, rem = divmod(seconds, 86400)
    y, m, d = civil_from_days(days)
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
        parsed = parse_layout(tokens, kind, value)
        if parsed is not None:
            return _format_instant(*parsed)
    return ""


CANONICAL_DATE = re.compile(r"-?\d{4,}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}Z")


def date_key(canonical: str) -> tuple[int, int]:
    """(seconds, millis) of a canonical date string, for comparisons."""
    negative = canonical.startswith("-")
    body = canonical[1:] if negative else canonical
    date, _, clock = body.partition(" ")
    y, m, d = (int(x) for x in date.split("-"))
    if negative:
        y = -y
    hh, mm, rest = clock.split(":")
    ss, _, ms = rest.rstrip("Z").partition(".")
    return days_from_civil(y, m, d) * 86400 + int(hh) * 3600 + int(mm) * 60 + int(ss), int(ms)


def _go_time(canonical: str, between: str, zone: str) -> str:
    """A canonical date with Go's trimmed fraction, ``between`` date and clock, ``zone`` after."""
    seconds, ms = date_key(canonical)
    y, m, d, hh, mm, ss = _instant_parts(seconds)
    frac = f".{ms:03d}".rstrip("0").rstrip(".")
    return f"{_format_year(y)}-{m:02d}-{d:02d}{between}{hh:02d}:{mm:02d}:{ss:02d}{frac}{zone}"


def go_time_string(canonical: str) -> str:
    """Go's ``time.Time.String()`` of a UTC date (``2024-12-31 12:00:00.5 +0000 UTC``)."""
    return _go_time(canonical, " ", " +0000 UTC")


def go_time_json(canonical: str) -> str:
    """Go's JSON (RFC 3339 nano) of a UTC date (``2024-12-31T12:00:00.5Z``)."""
    return _go_time(canonical, "T", "Z")
