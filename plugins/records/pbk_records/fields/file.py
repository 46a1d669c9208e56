"""``file``: stored file names (PocketBase's ``field_file.go``); the uploads themselves are
the files plugin's."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, ClassVar

from pbk_sdk.errors import FieldError

from ..gocompat.cast import cast_to_string, to_unique_string_slice
from .base import MAX_SAFE_JSON_INT, check_int, collect, required_error
from .multi import MultiValueType

_THUMB = re.compile(r"[0-9]+x[0-9]+[tbf]?")


class FileType(MultiValueType):
    """``file``: file names (or upload objects with a ``name`` attribute, kept as they are
    until the files plugin stores them). ``validate`` checks ``required`` and ``maxSelect``
    (``validation_too_many_files``) only: rejecting plain-string names that are not already
    on the record (``validation_invalid_file``), ``maxSize`` (default 5 MiB), ``mimeTypes``
    and the uploaded names are the files plugin's checks, since they need the old value and
    the uploads."""

    name = "file"
    options: ClassVar[Mapping[str, Any]] = {"maxSelect": 0, "maxSize": 0, "mimeTypes": [], "protected": False, "thumbs": []}
    option_kinds: ClassVar[Mapping[str, str]] = {
        "maxSelect": "int", "maxSize": "int", "mimeTypes": "strlist", "protected": "bool", "thumbs": "strlist",
    }

    def items(self, value: Any) -> list[Any]:
        """PocketBase's ``toSliceValue``: names and uploads, unique by name."""
        if value is None:
            found: list[Any] = []
        elif isinstance(value, (list, tuple)):
            found = []
            for v in value:
                sub = self.items(v)
                if len(sub) == 1:
                    found.append(sub[0])
        elif isinstance(value, (str, int, float, bool, Mapping)):
            found = list(to_unique_string_slice(value))
        else:
            found = [value]  # an upload
        out, seen = [], set()
        for item in found:
            key = self.item_name(item)
            if key not in seen:
                seen.add(key)
                out.append(item)
        return out

    def item_name(self, item: Any) -> str:
        if isinstance(item, str):
            return item
        name = getattr(item, "name", None)
        return name if isinstance(name, str) else cast_to_string(item)

    def validate(self, field: Mapping[str, Any], value: Any) -> FieldError | None:
        items = self.items(value)
        if not items:
            return required_error() if field.get("required") else None
        max_select = max(int(field.get("maxSelect") or 0), 1)
        if len(items) > max_select:
            message = f"The maximum allowed files is {max_select}"
            return FieldError("validation_too_many_files", message, {"maxSelect": max_select})
        return None

    def check_options(self, field: Mapping[str, Any]) -> dict[str, Any]:
        thumbs = {}
        for i, thumb in enumerate(field.get("thumbs") or []):
            if not thumb:
                continue
            if thumb in ("0x0", "0x0t", "0x0b", "0x0f"):
                thumbs[str(i)] = FieldError("validation_not_in_invalid", "Must not be in list.")
            elif not _THUMB.fullmatch(str(thumb)):
                thumbs[str(i)] = FieldError("validation_match_invalid", "Must be in a valid format.")
        return collect(
            maxSelect=check_int(field.get("maxSelect") or 0, 0, MAX_SAFE_JSON_INT),
            maxSize=check_int(field.get("maxSize") or 0, 0, MAX_SAFE_JSON_INT),
            thumbs=thumbs or None,
        )
