"""SQLite values as PocketBase's Go driver hands them to ``POST /api/sql``: strings or null."""

from __future__ import annotations

import codecs
import math
from datetime import datetime
from decimal import Decimal
from typing import Any

#: Column types whose text values the Go driver (modernc.org/sqlite) reads as times.
TIME_TYPES = frozenset({"DATE", "DATETIME", "TIMESTAMP"})
_TIME_FORMATS = (
    "%Y-%m-%d %H:%M:%S.%f%z", "%Y-%m-%dT%H:%M:%S.%f%z", "%Y-%m-%d %H:%M:%S%z", "%Y-%m-%dT%H:%M:%S%z",
    "%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%dT%H:%M:%S.%f", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M", "%Y-%m-%d",
)


def _one_replacement_per_bad_byte(error: UnicodeError) -> tuple[str, int]:
    """Go's JSON encoder turns each byte of invalid UTF-8 into one U+FFFD."""
    assert isinstance(error, UnicodeDecodeError)
    return "\ufffd", error.start + 1


codecs.register_error("pbk_sql_go_json", _one_replacement_per_bad_byte)


def as_text(value: Any, column_type: str) -> str | None:
    """``value`` as Go's ``database/sql`` converts it into a ``*string``."""
    if value is None or isinstance(value, str) and not (column_type in TIME_TYPES and _as_time(value)):
        return value
    if isinstance(value, str):
        return _as_time(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "pbk_sql_go_json")
    if isinstance(value, float):
        return go_float(value)
    return str(value)


def go_float(value: float) -> str:
    """Go's ``strconv.FormatFloat(value, 'g', -1, 64)``: shortest digits, exponent form from 1e6
    and below 1e-4, as ``%e`` with a two-digit exponent."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    sign = "-" if math.copysign(1.0, value) < 0 else ""
    if value == 0:
        return sign + "0"
    _, digit_tuple, exponent = Decimal(repr(abs(value))).normalize().as_tuple()
    digits = "".join(map(str, digit_tuple))
    point = len(digits) + int(exponent)  # where the decimal point falls among the digits
    scientific = point - 1
    if scientific < -4 or scientific >= 6:
        mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return f"{sign}{mantissa}e{'-' if scientific < 0 else '+'}{abs(scientific):02d}"
    if point <= 0:
        return f"{sign}0.{'0' * -point}{digits}"
    if point >= len(digits):
        return sign + digits + "0" * (point - len(digits))
    return f"{sign}{digits[:point]}.{digits[point:]}"


def _as_time(text: str) -> str | None:
    """A time column's text as the driver parses and Go prints it (RFC 3339, nanoseconds
    trimmed), or None when it is no time the driver knows."""
    text = text.removesuffix("Z")
    for layout in _TIME_FORMATS:
        try:
            moment = datetime.strptime(text, layout)
        except ValueError:
            continue
        stamp = moment.strftime("%Y-%m-%dT%H:%M:%S")
        if moment.microsecond:
            stamp += f".{moment.microsecond:06d}".rstrip("0")
        offset = moment.utcoffset()
        if offset is None or not offset:
            return stamp + "Z"
        zone = moment.strftime("%z")
        return f"{stamp}{zone[:3]}:{zone[3:]}"
    return None
