"""ozzo-validation's rules as PocketBase uses them, each a function of the value that answers
a ``FieldError`` or None, with PocketBase's codes, messages and params.

As in ozzo-validation, every rule but ``required`` passes an empty value (``""``, ``0``,
``[]``), and ``check`` answers the first rule that fails, so a field has at most one error. A
rule also passes a value of a type it does not check (a stored value PocketBase could not
have loaded), so such a value never makes a save fail with a 500.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping
from typing import Any

from pbk_sdk.errors import FieldError

Rule = Callable[[Any], FieldError | None]

#: JavaScript's largest exact integer, PocketBase's upper bound of some numeric settings.
MAX_SAFE_JSON_INT = 2**53 - 1


def check(value: Any, *rules: Rule) -> FieldError | None:
    """The first rule's error, or None when every rule passes."""
    for rule in rules:
        error = rule(value)
        if error is not None:
            return error
    return None


def collect(**fields: Any) -> dict[str, Any]:
    """The fields that have an error (a ``FieldError`` or nested errors)."""
    return {name: error for name, error in fields.items() if error}


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def is_empty(value: Any) -> bool:
    """ozzo's notion of empty: ``None``, ``""``, ``0``, ``False``, an empty list or object."""
    return value is None or (isinstance(value, (str, int, float, list, dict)) and not value)


def required(value: Any) -> FieldError | None:
    return FieldError("validation_required", "Cannot be blank.") if is_empty(value) else None


def when(condition: bool, rule: Rule) -> Rule:
    return rule if condition else _passes


def _passes(value: Any) -> None:
    return None


def length(low: int, high: int) -> Rule:
    """A string's length between ``low`` and ``high``, counted in UTF-8 bytes as Go counts it."""
    def rule(value: Any) -> FieldError | None:
        if not isinstance(value, str) or not value or low <= len(value.encode("utf-8", "surrogatepass")) <= high:
            return None
        params = {"max": high, "min": low}
        if low == high:
            return FieldError("validation_length_invalid", f"The length must be exactly {low}.", params)
        return FieldError("validation_length_out_of_range", f"The length must be between {low} and {high}.",
                          params)
    return rule


def at_least(threshold: int) -> Rule:
    def rule(value: Any) -> FieldError | None:
        if not is_number(value) or not value or value >= threshold:
            return None
        return FieldError("validation_min_greater_equal_than_required", f"Must be no less than {threshold}.",
                          {"threshold": threshold})
    return rule


def at_most(threshold: int) -> Rule:
    def rule(value: Any) -> FieldError | None:
        if not is_number(value) or not value or value <= threshold:
            return None
        return FieldError("validation_max_less_equal_than_required", f"Must be no greater than {threshold}.",
                          {"threshold": threshold})
    return rule


def one_of(*allowed: Any) -> Rule:
    def rule(value: Any) -> FieldError | None:
        if is_empty(value) or value in allowed:
            return None
        return FieldError("validation_in_invalid", "Must be a valid value.")
    return rule


def matches(pattern: re.Pattern[str]) -> Rule:
    """``pattern`` found in the value (use ``\\A``/``\\Z`` to anchor it, as Go's ``^``/``$``)."""
    def rule(value: Any) -> FieldError | None:
        if not isinstance(value, str) or not value or pattern.search(value):
            return None
        return FieldError("validation_match_invalid", "Must be in a valid format.")
    return rule


def format_of(test: Callable[[str], bool], code: str, message: str) -> Rule:
    """An ozzo ``is`` rule: ``test`` decides a non-empty string."""
    def rule(value: Any) -> FieldError | None:
        if not isinstance(value, str) or not value or test(value):
            return None
        return FieldError(code, message)
    return rule


def each(items: Collection[Any], *rules: Rule) -> dict[str, FieldError]:
    """The errors of a list's elements by index (ozzo's ``Each``)."""
    errors = {str(index): check(item, *rules) for index, item in enumerate(items)}
    return {index: error for index, error in errors.items() if error is not None}


def section(value: Any) -> Mapping[str, Any]:
    """A settings section, or an empty one when the stored value is not an object."""
    return value if isinstance(value, Mapping) else {}
