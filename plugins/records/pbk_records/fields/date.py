"""``date``: ``types.DateTime`` values with inclusive bounds (PocketBase's ``field_date.go``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from pbk_sdk.errors import FieldError

from ..gocompat.datetimes import (
    CANONICAL_DATE,
    date_key,
    go_time_json,
    go_time_string,
    parse_datetime,
)
from .base import BuiltinFieldType, required_error


class DateType(BuiltinFieldType):
    """``date``: stored as ``YYYY-MM-DD HH:MM:SS.mmmZ`` (UTC); ``min``/``max`` inclusive.
    Values are compared at millisecond precision (PocketBase compares the unrounded input)."""

    name = "date"
    options: ClassVar[Mapping[str, Any]] = {"max": "", "min": ""}
    option_kinds: ClassVar[Mapping[str, str]] = {"max": "date", "min": "date"}

    def normalize(self, field: Mapping[str, Any], value: Any) -> str:
        return parse_datetime(value)

    def validate(self, field: Mapping[str, Any], value: Any) -> FieldError | None:
        if not (isinstance(value, str) and CANONICAL_DATE.fullmatch(value)):
            value = parse_datetime(value)
        if value == "":
            return required_error() if field.get("required") else None
        for key, code, words in (
            ("min", "validation_min_greater_equal_than_required", "no less"),
            ("max", "validation_max_less_equal_than_required", "no greater"),
        ):
            bound = field.get(key)
            if not bound:
                continue
            bound = bound if CANONICAL_DATE.fullmatch(str(bound)) else parse_datetime(bound)
            if not bound:
                continue
            if key == "min":
                too_far = date_key(value) < date_key(bound)
            else:
                too_far = date_key(value) > date_key(bound)
            if too_far:
                message = f"Must be {words} than {go_time_string(bound)}"
                return FieldError(code, message, {"threshold": go_time_json(bound)})
        return None

    def from_db(self, field: Mapping[str, Any], raw: Any) -> str:
        if isinstance(raw, str) and (raw == "" or CANONICAL_DATE.fullmatch(raw)):
            return raw
        return parse_datetime(raw)
