"""``text``: any string, with length limits, a Go-regexp ``pattern``, values generated
from ``autogeneratePattern``, and the ``id`` primary key (PocketBase's ``field_text.go``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from pbk_sdk.errors import FieldError
from pbk_sdk.formats import go_quote

from ..gocompat.cast import cast_to_string
from ..gocompat.random_by_regex import generate_from_pattern
from ..gocompat.regexp import go_regex_match
from .base import (
    MAX_SAFE_JSON_INT,
    StringFieldType,
    check_int,
    collect,
    regex_problem,
    required_error,
)

TEXT_DEFAULT_MAX = 5000


class TextType(StringFieldType):
    """``text``: any string; ``min``/``max`` (0 = 5000) characters, ``pattern`` (Go regexp),
    ``autogeneratePattern`` for empty values on create, ``primaryKey`` for the ``id`` field."""

    name = "text"
    options: ClassVar[Mapping[str, Any]] = {"autogeneratePattern": "", "max": 0, "min": 0, "pattern": "", "primaryKey": False}
    option_kinds: ClassVar[Mapping[str, str]] = {
        "autogeneratePattern": "str", "max": "int", "min": "int", "pattern": "str", "primaryKey": "bool",
    }

    def column_definition(self, field: Mapping[str, Any]) -> str:
        if field.get("primaryKey"):
            return "TEXT PRIMARY KEY DEFAULT ('r'||lower(hex(randomblob(7)))) NOT NULL"
        return "TEXT DEFAULT '' NOT NULL"

    def validate_plain(self, field: Mapping[str, Any], value: str) -> FieldError | None:
        """PocketBase's ``ValidatePlainValue``: required, min, max, pattern."""
        if (field.get("required") or field.get("primaryKey")) and value == "":
            return required_error()
        if value == "":
            return None
        length = len(value)
        minimum = int(field.get("min") or 0)
        if minimum > 0 and length < minimum:
            message = f"Must be at least {minimum} character(s)"
            return FieldError("validation_min_text_constraint", message, {"min": minimum})
        maximum = int(field.get("max") or 0) or TEXT_DEFAULT_MAX
        if maximum > 0 and length > maximum:
            message = f"Must be no more than {maximum} character(s)"
            return FieldError("validation_max_text_constraint", message, {"max": maximum})
        pattern = field.get("pattern")
        if pattern and not go_regex_match(str(pattern), value):
            return FieldError("validation_invalid_format", "Invalid value format")
        return None

    def validate(self, field: Mapping[str, Any], value: Any) -> FieldError | None:
        """The checks of a new value. For the primary key these are the create-time checks
        (plus the forbidden ``/`` and ``\\``); the records layer checks a changed id
        (``validation_pk_change``) and duplicates (``validation_pk_invalid``) itself."""
        value = cast_to_string(value)
        problem = self.validate_plain(field, value)
        if problem is not None or not field.get("primaryKey"):
            return problem
        for ch in ("/", "\\"):
            if ch in value:
                message = f"'{ch}' is not a valid primary key character."
                return FieldError("validation_forbidden_pk_character", message, {"ch": ch})
        return None

    def autogenerate(self, field: Mapping[str, Any]) -> str | None:
        """A random value from ``autogeneratePattern`` (None without one)."""
        pattern = field.get("autogeneratePattern")
        return generate_from_pattern(str(pattern)) if pattern else None

    def check_options(self, field: Mapping[str, Any]) -> dict[str, Any]:
        pk = bool(field.get("primaryKey"))
        minimum = field.get("min") or 0
        maximum = field.get("max") or 0
        problems = collect(
            min=check_int(minimum, 0, MAX_SAFE_JSON_INT),
            max=check_int(maximum, minimum, MAX_SAFE_JSON_INT),
            pattern=required_error() if pk and not field.get("pattern") else regex_problem(field.get("pattern")),
            hidden=FieldError("validation_empty", "Must be blank.") if pk and field.get("hidden") else None,
            required=required_error() if pk and not field.get("required") else None,
            autogeneratePattern=self._autogenerate_problem(field),
        )
        if pk and field.get("name") != "id":
            problems["name"] = FieldError("validation_in_invalid", 'The primary key must be named "id".')
        return problems

    def _autogenerate_problem(self, field: Mapping[str, Any]) -> FieldError | None:
        pattern = field.get("autogeneratePattern")
        if not pattern:
            return None
        problem = regex_problem(pattern)
        if problem is not None:
            return problem
        for _ in range(10):
            try:
                sample = generate_from_pattern(str(pattern))
            except ValueError as exc:
                return FieldError("validation_invalid_autogenerate_pattern", str(exc))
            if self.validate_plain(field, sample) is not None:
                return FieldError(
                    "validation_invalid_autogenerate_pattern_value",
                    "The provided autogenerate pattern could produce invalid field values, "
                    f"ex.: {go_quote(sample)}",
                )
        return None
