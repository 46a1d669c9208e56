"""``editor``: HTML text limited in bytes (PocketBase's ``field_editor.go``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from pbk_sdk.errors import FieldError

from .base import MAX_SAFE_JSON_INT, StringFieldType, check_int, collect

EDITOR_DEFAULT_MAX_SIZE = 5 << 20


class EditorType(StringFieldType):
    """``editor``: HTML text; ``maxSize`` in bytes (0 = 5 MiB)."""

    name = "editor"
    options: ClassVar[Mapping[str, Any]] = {"convertURLs": False, "maxSize": 0}
    option_kinds: ClassVar[Mapping[str, str]] = {"convertURLs": "bool", "maxSize": "int"}

    def check_text(self, field: Mapping[str, Any], value: str) -> FieldError | None:
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

    def check_options(self, field: Mapping[str, Any]) -> dict[str, Any]:
        return collect(maxSize=check_int(field.get("maxSize") or 0, 0, MAX_SAFE_JSON_INT))
