"""Go's ``strconv.ParseBool`` and ``strconv.ParseInt(s, 0, 64)``, which PocketBase applies to
text it reads as a bool or an integer (form fields, query parameters, ``cast.ToInt``).

Both answer ``None`` where Go returns an error, so each caller picks its own answer to
refusal (PocketBase fails a form load, ``cast`` falls back to the zero value).
"""

from __future__ import annotations

TRUE_STRINGS = frozenset(("1", "t", "T", "TRUE", "true", "True"))
FALSE_STRINGS = frozenset(("0", "f", "F", "FALSE", "false", "False"))
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
_PREFIXES = {"b": 2, "o": 8, "x": 16}
_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"


def parse_bool(text: str) -> bool | None:
    """``strconv.ParseBool``: only its six spellings of each value, no trimming."""
    if text in TRUE_STRINGS:
        return True
    if text in FALSE_STRINGS:
        return False
    return None


def parse_int(text: str) -> int | None:
    """``strconv.ParseInt(text, 0, 64)``: an optional sign, then ``0x``/``0o``/``0b`` or a
    leading ``0`` (octal) choosing the base, ``_`` only between digits (or right after a
    prefix); no spaces; None outside int64."""
    negative = text[:1] == "-"
    unsigned = text[1:] if text[:1] in ("+", "-") else text
    if not unsigned:
        return None
    base, digits = 10, unsigned
    if unsigned[0] == "0":
        base, digits = 8, unsigned[1:]
        if len(unsigned) >= 3 and unsigned[1].lower() in _PREFIXES:
            base, digits = _PREFIXES[unsigned[1].lower()], unsigned[2:]
    limit = -INT64_MIN if negative else INT64_MAX
    value = 0
    for char in digits:
        if char == "_":
            continue
        digit = _DIGITS.find(char.lower()) if char.isascii() else -1
        if not 0 <= digit < base:
            return None
        value = value * base + digit
        if value > limit:
            return None
    if "_" in digits and not _underscores_ok(unsigned):
        return None
    return -value if negative else value


def _underscores_ok(unsigned: str) -> bool:
    """Go's ``underscoreOK``: each ``_`` follows a digit (or the base prefix) and precedes one."""
    saw = "^"  # ^ start, 0 digit or prefix, _ underscore, ! anything else
    start, hexadecimal = 0, False
    if len(unsigned) >= 2 and unsigned[0] == "0" and unsigned[1].lower() in _PREFIXES:
        start, saw, hexadecimal = 2, "0", unsigned[1].lower() == "x"
    for char in unsigned[start:]:
        if char.isdigit() and char.isascii() or hexadecimal and char.lower() in "abcdef":
            saw = "0"
        elif char == "_":
            if saw != "0":
                return False
            saw = "_"
        elif saw == "_":
            return False
        else:
            saw = "!"
    return saw != "_"
