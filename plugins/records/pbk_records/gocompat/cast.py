"""spf13/cast's conversions as PocketBase applies them to record input.

A record value arrives decoded from JSON (numbers as float64) or as a multipart string;
PocketBase's fields turn it into their type with ``cast.ToString``, ``cast.ToFloat64`` and
``cast.ToBool``, and multi-valued fields with ``list.ToUniqueStringSlice``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pbk_sdk.gostrconv import parse_bool

from .jsonenc import json_array_loads
from .strconv import go_ftoa, parse_go_float


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


def cast_to_bool(value: Any) -> bool:
    """``cast.ToBool``: ``strconv.ParseBool`` for strings (``"yes"`` is false), non-zero numbers."""
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return value != 0
    if isinstance(value, str):
        return parse_bool(value) is True
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
                decoded = json_array_loads(value)
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