"""``bool``: ``cast.ToBool`` of the input (PocketBase's ``field_bool.go``).

The module is not named ``bool`` so that it never shadows the builtin in this package."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..gocompat.cast import cast_to_bool
from .base import BuiltinFieldType


class BoolType(BuiltinFieldType):
    """``bool``; required = must be true."""

    name = "bool"

    def column_definition(self, field: Mapping[str, Any]) -> str:
        return "BOOLEAN DEFAULT FALSE NOT NULL"

    def zero_value(self, field: Mapping[str, Any]) -> bool:
        return False

    def is_blank(self, field: Mapping[str, Any], value: Any) -> bool:
        return not cast_to_bool(value)

    def normalize(self, field: Mapping[str, Any], value: Any) -> bool:
        return cast_to_bool(value)

    def to_db(self, field: Mapping[str, Any], value: Any) -> bool:
        """A Python bool: SQLite stores it as 1/0, PostgreSQL's BOOLEAN takes no integer."""
        return cast_to_bool(value)

    def from_db(self, field: Mapping[str, Any], raw: Any) -> bool:
        return cast_to_bool(raw)
