"""Go's ``strconv`` and ``fmt`` number formats and ``strconv.ParseFloat`` (``strconv.Quote`` is
``pbk_sdk.formats.go_quote``).

PocketBase outputs numbers the way Go prints a float64 (``1e+06`` in messages, ``1e-7`` in
JSON, ``12345678901234567000`` for a big integral value) and reads numeric strings with
``strconv.ParseFloat`` syntax (``"1_000"``, ``"0x1p4"``, ``"5."``, ``"inf"``).
"""

from __future__ import annotations

import math
import re
from decimal import Decimal
from typing import Any, TypeGuard


def is_number(value: Any) -> TypeGuard[int | float]:
    """An int or float that is not a bool (JSON numbers as Python decodes them)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


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


def _shortest(f: float, *, sci_min: float, sci_max: float) -> str:
    """Shortest round-trip digits of ``f`` with Go's sign, ``0``, ``NaN`` and ``±Inf``;
    exponent form when the decimal exponent is below ``sci_min`` or from ``sci_max`` on."""
    special = _go_special(f)
    if special:
        return special
    sign = "-" if math.copysign(1.0, f) < 0 else ""
    if f == 0:
        return sign + "0"
    digits, dp = _shortest_digits(f)
    if dp - 1 < sci_min or dp - 1 >= sci_max:
        return sign + _exponent(digits, dp)
    return sign + _fixed(digits, dp)


def go_ftoa(f: float) -> str:
    """``strconv.FormatFloat(f, 'f', -1, 64)`` (what ``cast.ToString`` does to numbers)."""
    return _shortest(f, sci_min=-math.inf, sci_max=math.inf)


def go_sprint(value: Any) -> str:
    """``fmt.Sprint`` of an int or float64 (``%v``): shortest digits, exponent form when the
    exponent is < -4 or >= 6 (``1e+06``, ``1.2345675e+06``, ``1e-05``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return _shortest(float(value), sci_min=-4, sci_max=6)


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
