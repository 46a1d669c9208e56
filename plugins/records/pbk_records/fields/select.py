"""``select``: values from a fixed list (PocketBase's ``field_select.go``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from pbk_sdk.errors import FieldError

from .base import check_int, collect, required_error
from .multi import MultiValueType


class SelectType(MultiValueType):
    """``select``: values from ``values``; ``maxSelect`` > 1 makes it multiple."""

    name = "select"
    options: ClassVar[Mapping[str, Any]] = {"maxSelect": 0, "values": []}
    option_kinds: ClassVar[Mapping[str, str]] = {"maxSelect": "int", "values": "strlist"}

    def validate(self, field: Mapping[str, Any], value: Any) -> FieldError | None:
        items = self.items(value)
        if not items:
            return required_error() if field.get("required") else None
        problem = self._too_many(field, len(items))
        if problem is not None:
            return problem
        allowed = field.get("values") or []
        for item in items:
            if item not in allowed:
                return FieldError("validation_invalid_value", f"Invalid value {item}", {"value": item})
        return None

    def check_options(self, field: Mapping[str, Any]) -> dict[str, Any]:
        values = field.get("values") or []
        return collect(
            values=None if values else required_error(),
            maxSelect=check_int(field.get("maxSelect") or 0, 0, max(len(values), 1)),
        )
