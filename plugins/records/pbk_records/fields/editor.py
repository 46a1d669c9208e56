"""``editor``: HTML text limited in bytes (PocketBase's ``field_editor.go``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pbk_sdk.errors import FieldError

from ..gocompat.cast import cast_to_string
from .base import MAX_SAFE_JSON_INT, BuiltinFieldType, check_int, collect, required_error

EDITOR_DEFAULT_MAX_SIZE = 5 << 20


class EditorType(BuiltinFieldType):
    """``editor``: HTML text; ``maxSize`` in bytes (0 = 5 MiB)."""

    name = "editor"
    options = {"convertURLs": False, "maxSize": 0}
    option_kinds = {"convertURLs": "bool", "maxSize": "int"}

    def normalize(self, field: Mapping[str, Any], value: Any) -> str:
        return cast_to_string(value)

    def validate(self, field: Mapping[str, Any], value: Any) -> FieldError | None:
        value = cast_to_string(value)
        if field.get("required") and value == "":
            return required_error()
        max_size = int(field.get("maxSize") or 0)
        if max_size <= 0:
            max_size = EDITOR_DEFAULT_MAX_SIZE
        if len(value.encode("utf-8", "surrogatepass")) > max_size:
            return FieldError(
                "validation_content_size_limit",
                f"The maximum allowed content size is {max_size} bytes",
                {"maxSize": max_size},
            )
        return None

    def from_db(self, field: Mapping[str, Any], raw: Any) -> str:
        return cast_to_string(raw)

    def check_options(self, field: Mapping[str, Any]) -> dict[str, Any]:
        return collect(maxSize=check_int(field.get("maxSize") or 0, 0, MAX_SAFE_JSON_INT))
