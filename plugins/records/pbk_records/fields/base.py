"""What the built-in field types share: their base class and the option checks of a
collection create (ozzo-validation's rules, as PocketBase's fields apply them)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from pbk_sdk.errors import FieldError
from pbk_sdk.fields import REQUIRED, BaseFieldType

from ..gocompat.cast import cast_to_string
from ..gocompat.regexp import go_regex_error
from ..gocompat.strconv import go_sprint

#: ``maxSafeJSONInt`` of PocketBase's option checks.
MAX_SAFE_JSON_INT = 2**53 - 1


def required_error() -> FieldError:
    """``validation_required``: "Cannot be blank."."""
    return FieldError(*REQUIRED)


class BuiltinFieldType(BaseFieldType):
    """A PocketBase field type: blank is ``None`` or ``""`` unless the type says otherwise."""

    #: Whether the field JSON has ``help`` and ``required`` (autodate has neither).
    input_keys: ClassVar[bool] = True
    #: How each option is decoded from the posted JSON: int, float?, str, bool, strlist, date.
    option_kinds: ClassVar[Mapping[str, str]] = {}

    def is_blank(self, field: Mapping[str, Any], value: Any) -> bool:
        return value in (None, "")

    def validate(self, field: Mapping[str, Any], value: Any) -> FieldError | None:
        if field.get("required") and self.is_blank(field, value):
            return required_error()
        return None

    def reader(self, field: Mapping[str, Any]) -> Callable[[Any], Any]:
        """``from_db`` of ``field`` as a one-argument function, made once per field list (a
        type may work out what depends on the field's options here, not per value)."""
        return functools.partial(self.from_db, field)


class StringFieldType(BuiltinFieldType):
    """A type whose value is a string (``cast.ToString`` of the input and of the column):
    ``""`` is blank, and only other values meet ``check_text``."""

    def normalize(self, field: Mapping[str, Any], value: Any) -> str:
        return cast_to_string(value)

    def validate(self, field: Mapping[str, Any], value: Any) -> FieldError | None:
        value = cast_to_string(value)
        if value == "":
            return required_error() if field.get("required") else None
        return self.check_text(field, value)

    def check_text(self, field: Mapping[str, Any], value: str) -> FieldError | None:
        """The problem with a non-blank value, if any."""
        return None

    def from_db(self, field: Mapping[str, Any], raw: Any) -> str:
        return cast_to_string(raw)


def _threshold_min(threshold: Any) -> FieldError:
    return FieldError(
        "validation_min_greater_equal_than_required",
        f"Must be no less than {go_sprint(threshold)}",
        {"threshold": threshold},
    )


def _threshold_max(threshold: Any) -> FieldError:
    return FieldError(
        "validation_max_less_equal_than_required",
        f"Must be no greater than {go_sprint(threshold)}",
        {"threshold": threshold},
    )


def check_int(value: Any, lo: int | None = None, hi: int | None = None) -> FieldError | None:
    """ozzo's ``Min``/``Max`` threshold rules (they skip the zero value)."""
    if not value:
        return None
    if lo is not None and value < lo:
        return _threshold_min(lo)
    if hi is not None and value > hi:
        return _threshold_max(hi)
    return None


def regex_problem(pattern: Any) -> FieldError | None:
    """``validation_invalid_regex`` with Go's message for a pattern Go cannot compile."""
    if not pattern:
        return None
    problem = go_regex_error(str(pattern))
    return FieldError("validation_invalid_regex", problem) if problem else None


def collect(**problems: Any) -> dict[str, Any]:
    """The option problems that are there, by option name."""
    return {key: problem for key, problem in problems.items() if problem is not None}
