"""What ``select``, ``relation`` and ``file`` share: one value stored as TEXT, or several
(``maxSelect`` > 1) stored as a JSON array, read with ``list.ToUniqueStringSlice``."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from pbk_sdk.errors import FieldError

from ..gocompat.cast import cast_to_string, to_unique_string_slice
from ..gocompat.jsonenc import dump_json
from .base import BuiltinFieldType


class MultiValueType(BuiltinFieldType):
    """Shared by select, relation and file: single (``maxSelect`` ≤ 1, TEXT) or multiple."""

    def is_multiple(self, field: Mapping[str, Any]) -> bool:
        return int(field.get("maxSelect") or 0) > 1

    def column_definition(self, field: Mapping[str, Any]) -> str:
        return "JSON DEFAULT '[]' NOT NULL" if self.is_multiple(field) else "TEXT DEFAULT '' NOT NULL"

    def zero_value(self, field: Mapping[str, Any]) -> Any:
        return [] if self.is_multiple(field) else ""

    def is_blank(self, field: Mapping[str, Any], value: Any) -> bool:
        return not self.items(value)

    def items(self, value: Any) -> list[Any]:
        return to_unique_string_slice(value)

    def normalize(self, field: Mapping[str, Any], value: Any) -> Any:
        """A list for multiple fields; the last value for single ones (``["a", "b"]`` → ``"b"``)."""
        items = self.items(value)
        if self.is_multiple(field):
            return items
        return items[-1] if items else ""

    def to_db(self, field: Mapping[str, Any], value: Any) -> str:
        value = self.normalize(field, value)
        if self.is_multiple(field):
            return dump_json([self.item_name(v) for v in value])
        return self.item_name(value)

    def item_name(self, item: Any) -> str:
        return cast_to_string(item)

    def from_db(self, field: Mapping[str, Any], raw: Any) -> Any:
        if isinstance(raw, bytes):
            raw = raw.decode("utf-8", "replace")
        return self.normalize(field, raw)

    def reader(self, field: Mapping[str, Any]) -> Callable[[Any], Any]:
        """``from_db``, with a stored string holding no ``[`` (a single field's TEXT, always)
        taken as one value, as ``to_unique_string_slice`` does, without working it out."""
        from_db = self.from_db
        if type(self).from_db is not MultiValueType.from_db or type(self).normalize is not MultiValueType.normalize:
            return super().reader(field)
        multiple = self.is_multiple(field)

        def read(raw: Any) -> Any:
            if type(raw) is str and "[" not in raw:
                if multiple:
                    return [raw] if raw else []
                return raw
            return from_db(field, raw)

        return read

    def _too_many(self, field: Mapping[str, Any], count: int) -> FieldError | None:
        max_select = max(int(field.get("maxSelect") or 0), 1)
        if count > max_select:
            message = f"Select no more than {max_select}"
            return FieldError("validation_too_many_values", message, {"maxSelect": max_select})
        return None
