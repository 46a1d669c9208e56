"""A base for field types: the parts most types share (see ``interfaces.FieldType``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from .errors import FieldError

REQUIRED = ("validation_required", "Cannot be blank.")


class BaseFieldType:
    """A single-valued TEXT field type; subclasses override what differs."""

    name: ClassVar[str] = ""
    options: ClassVar[Mapping[str, Any]] = {}

    def column_definition(self, field: Mapping[str, Any]) -> str:
        return "TEXT DEFAULT '' NOT NULL"

    def is_multiple(self, field: Mapping[str, Any]) -> bool:
        return False

    def zero_value(self, field: Mapping[str, Any]) -> Any:
        return ""

    def normalize(self, field: Mapping[str, Any], value: Any) -> Any:
        if value is None:
            return self.zero_value(field)
        return value

    def is_blank(self, field: Mapping[str, Any], value: Any) -> bool:
        return value in (None, "", 0, False, [], {})

    def validate(self, field: Mapping[str, Any], value: Any) -> FieldError | None:
        if field.get("required") and self.is_blank(field, value):
            return FieldError(*REQUIRED)
        return None

    def to_db(self, field: Mapping[str, Any], value: Any) -> Any:
        return value

    def from_db(self, field: Mapping[str, Any], raw: Any) -> Any:
        return self.zero_value(field) if raw is None else raw

    def check_options(self, field: Mapping[str, Any]) -> Mapping[str, Any]:
        return {}
