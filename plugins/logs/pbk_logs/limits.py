"""PocketBase's size limits on a stored log: the message, and ``data`` under ``logs.maxDataSize``.

PocketBase cuts a message at 8000 bytes, and a ``data`` whose JSON is longer than
``maxDataSize`` bytes (0: about 16 KB) at that many bytes, then reads back what the cut left
(Go's streaming JSON decoder keeps every member read before the cut) and adds
``"__pb_truncated__": true``. Reading a cut prefix the way that decoder does, checked against
the binary: a member whose name was cut is dropped; one whose string or literal was cut is kept
as null; a number cut at a digit keeps the digits read (``171.38`` cut to ``171``); a cut
object keeps its complete members, a cut array its elements plus a null for the one cut.
"""

from __future__ import annotations

import re
from typing import Any

import orjson

MAX_MESSAGE_BYTES = 8000
DEFAULT_MAX_DATA_SIZE = 16 << 10
TRUNCATED = "__pb_truncated__"

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_LITERALS = (("true", True), ("false", False), ("null", None))
_AFTER_VALUE = frozenset(",}]")
#: ``(value, position after it, whether it was read whole)``
_Read = tuple[Any, int, bool]


def fit_message(message: str) -> str:
    """``message`` cut at PocketBase's 8000 bytes (a character split by the cut is dropped,
    where PocketBase keeps its first bytes)."""
    if len(message) * 4 <= MAX_MESSAGE_BYTES:
        return message
    raw = message.encode("utf-8", "surrogatepass")
    if len(raw) <= MAX_MESSAGE_BYTES:
        return message
    return raw[:MAX_MESSAGE_BYTES].decode("utf-8", "ignore")


def fit_data(data_json: str, max_data_size: int) -> str:
    """``data_json`` (an object, compact, keys sorted), or what PocketBase keeps of it when it
    is longer than ``max_data_size`` bytes (0: the default)."""
    limit = max_data_size or DEFAULT_MAX_DATA_SIZE
    if len(data_json) * 4 <= limit:  # PERF: UTF-8 needs at most 4 bytes a character
        return data_json
    raw = data_json.encode()
    if len(raw) <= limit:
        return data_json
    # A character split by the cut can only be inside a string, which the cut leaves open
    # (so null) whether or not its last bytes are kept.
    kept, _, _ = _object(raw[:limit].decode("utf-8", "ignore"), 0)
    kept[TRUNCATED] = True
    return orjson.dumps(kept, option=orjson.OPT_SORT_KEYS).decode()


def _value(text: str, pos: int) -> _Read:
    if pos >= len(text):
        return None, pos, False
    first = text[pos]
    if first == "{":
        return _object(text, pos)
    if first == "[":
        return _array(text, pos)
    if first == '"':
        found = _STRING.match(text, pos)
        if found is None:
            return None, len(text), False
        return orjson.loads(found[0]), found.end(), True
    for word, value in _LITERALS:
        if text.startswith(word, pos):
            return value, pos + len(word), True
    found = _NUMBER.match(text, pos)
    if found is None or (found.end() < len(text) and text[found.end()] not in _AFTER_VALUE):
        return None, len(text), False  # "-", "1.", "1e", "tr": not a value yet
    return _go_number(found[0]), found.end(), True


def _go_number(token: str) -> int | float:
    """As Go reads a number into ``any`` (a float64) and writes it back."""
    number = float(token)
    return int(number) if number.is_integer() and abs(number) < 1e21 else number


def _object(text: str, pos: int) -> tuple[dict[str, Any], int, bool]:
    members: dict[str, Any] = {}
    pos += 1
    while True:
        if pos < len(text) and text[pos] == "}":
            return members, pos + 1, True
        name = _STRING.match(text, pos)
        if name is None:
            return members, len(text), False
        pos = name.end() + (1 if text.startswith(":", name.end()) else 0)
        value, pos, whole = _value(text, pos)
        members[orjson.loads(name[0])] = value
        if not whole:
            return members, pos, False
        if text.startswith(",", pos):
            pos += 1


def _array(text: str, pos: int) -> _Read:
    items: list[Any] = []
    pos += 1
    while True:
        if pos < len(text) and text[pos] == "]":
            return items, pos + 1, True
        value, pos, whole = _value(text, pos)
        items.append(value)
        if not whole:
            return items, pos, False
        if text.startswith(",", pos):
            pos += 1
