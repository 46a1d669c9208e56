"""Go-compatible conversions of request values (what PocketBase's ``cast`` and ``encoding/json`` do).

Request values reach SQL as bound parameters; these helpers only decide *which* value is
bound, so that pbk binds what PocketBase binds.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

from ..gocompat.cast import cast_to_string as go_to_string  # spf13/cast's ToString, one copy

_GO_FLOAT_RE = re.compile(
    r"[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|inf|infinity|nan)", re.ASCII | re.IGNORECASE
)


def go_parse_float(text: str) -> float | None:
    """Go's ``strconv.ParseFloat(text, 64)`` for decimal input, or None when it fails."""
    if not _GO_FLOAT_RE.fullmatch(text):
        return None
    try:
        value = float(text)
    except ValueError:  # pragma: no cover - the regex only lets floats through
        return None
    if math.isinf(value) and "inf" not in text.lower():
        return None  # out of range: Go returns an error
    return value


def _go_json_normalize(value: Any) -> Any:
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e21:
            return int(value)
        return value
    if isinstance(value, Mapping):
        return {str(k): _go_json_normalize(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_go_json_normalize(v) for v in value]
    return value


def go_json(value: Any) -> str:
    """``json.Marshal``: sorted keys, compact, ``<``, ``>``, ``&`` escaped as Go does."""
    text = json.dumps(
        _go_json_normalize(value),
        ensure_ascii=False,
        separators=(",", ":"),
        sort_keys=True,
        default=str,
    )
    return (
        text.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def to_slice(value: Any) -> list[Any]:
    """PocketBase's ``toSlice``: None is empty, a list is itself, anything else one item."""
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value]


def unique_strings(value: Any) -> list[str]:
    """``list.ToUniqueStringSlice``: ids from a string, a JSON array string or a list; no
    empty strings, no duplicates, order kept."""
    items: list[str] = []
    if value is None:
        pass
    elif isinstance(value, str):
        if value:
            parsed = None
            if "[" in value:
                try:
                    parsed = json.loads(value)
                except (ValueError, RecursionError):  # not JSON, or nested past Python's stack
                    parsed = None
            if isinstance(parsed, list) and all(isinstance(v, str) for v in parsed):
                items = list(parsed)
            else:
                items = [value]
    elif isinstance(value, Sequence) and not isinstance(value, (bytes, bytearray)):
        items = [go_to_string(v) for v in value]
    else:
        items = [go_to_string(value)]
    seen: set[str] = set()
    out: list[str] = []
    for item in items:
        if item and item not in seen:
            seen.add(item)
            out.append(item)
    return out


def extract_path(data: Any, keys: Sequence[str]) -> tuple[Any, bool]:
    """Walk ``keys`` through nested mappings and lists; ``(value, found)``."""
    current = data
    for key in keys:
        if isinstance(current, Mapping):
            if key not in current:
                return None, False
            current = current[key]
        elif isinstance(current, (list, tuple)):
            if not key.isascii() or not key.isdigit():
                return None, False
            index = int(key)
            if index >= len(current):
                return None, False
            current = current[index]
        else:
            return None, False
    return current, True


def contains_unescaped(text: str, char: str) -> bool:
    """Whether ``char`` occurs in ``text`` without a backslash before it."""
    prev = ""
    for c in text:
        if c == char and prev != "\\":
            return True
        prev = "" if (c == "\\" and prev == "\\") else c
    return False


def escape_unescaped(text: str, chars: str = "\\%_") -> str:
    """PocketBase's ``escapeUnescapedChars``: put a backslash before each of ``chars`` that
    has none (walking backwards, exactly as PocketBase does)."""
    result: list[str] = []
    match = False
    for i in range(len(text) - 1, -1, -1):
        ch = text[i]
        if match:
            if ch != "\\":
                result.append("\\")
            match = False
        elif ch in chars:
            match = True
        result.append(ch)
        if i == 0 and match:
            result.append("\\")
    return "".join(reversed(result))


def like_pattern(value: Any) -> str:
    """A ``~`` operand: kept as a pattern when it has an unescaped ``%``, else escaped and
    wrapped in ``%…%`` (contains)."""
    text = go_to_string(value)
    if contains_unescaped(text, "%"):
        return text
    return "%" + escape_unescaped(text) + "%"
