"""JSON as Go's ``encoding/json`` writes and reads it.

PocketBase stores a json field's value re-encoded by Go: sorted object keys, float64 numbers
in Go's format, no HTML escaping. Its decoder refuses ``NaN``/``Infinity``, which Python's
``json`` accepts unless told otherwise.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

import orjson

from .strconv import go_json_float, go_number, is_number


def go_json_value(value: Any) -> Any:
    """A decoded JSON value as Go's ``json.Marshal`` re-encodes it (numbers are float64,
    object keys sorted)."""
    if isinstance(value, Mapping):
        return {str(k): go_json_value(value[k]) for k in sorted(value, key=str)}
    if isinstance(value, (list, tuple)):
        return [go_json_value(v) for v in value]
    if is_number(value):
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


def strict_json_loads(text: str) -> Any:
    """``json.loads`` refusing ``NaN``, ``Infinity`` and ``-Infinity``, as Go's decoder does.

    Nesting too deep for Python's recursion limit (about 1000 levels) is a ``ValueError`` too,
    like any other text that is not JSON here, so no caller meets a ``RecursionError``.
    """
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except RecursionError as exc:
        raise ValueError("JSON nested too deep") from exc


def json_array_loads(text: str) -> Any:
    """``strict_json_loads`` for a string slice, several times faster: orjson differs only
    on numbers (big integers become floats), which a string slice rejects either way."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:  # e.g. lone surrogates, which Go's decoder takes
        return strict_json_loads(text)


def dump_json(value: Any) -> str:
    """Compact JSON for a stored value (orjson's speed; ``json`` for what orjson refuses)."""
    try:
        return orjson.dumps(value).decode()
    except TypeError:  # e.g. integers beyond 64 bits
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
