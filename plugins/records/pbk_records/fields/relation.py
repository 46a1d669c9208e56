"""``relation``: record ids of another collection (PocketBase's ``field_relation.go``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from pbk_sdk.errors import FieldError

from .base import check_int, collect, required_error
from .multi import MultiValueType


class RelationType(MultiValueType):
    """``relation``: record ids of ``collectionId``; ``minSelect``/``maxSelect``. Whether the
    ids exist (``validation_missing_rel_records``) needs the database and is checked by the
    records layer after this validation passes."""

    name = "relation"
    options: ClassVar[Mapping[str, Any]] = {"cascadeDelete": False, "collectionId": "", "maxSelect": 0, "minSelect": 0}
    option_kinds: ClassVar[Mapping[str, str]] = {"cascadeDelete": "bool", "collectionId": "str", "maxSelect": "int", "minSelect": "int"}

    def validate(self, field: Mapping[str, Any], value: Any) -> FieldError | None:
        items = self.items(value)
        if not items:
            return required_error() if field.get("required") else None
        min_select = int(field.get("minSelect") or 0)
        if min_select > 0 and len(items) < min_select:
            message = f"Select at least {min_select}"
            return FieldError("validation_not_enough_values", message, {"minSelect": min_select})
        return self._too_many(field, len(items))

    def check_options(self, field: Mapping[str, Any]) -> dict[str, Any]:
        min_select = int(field.get("minSelect") or 0)
        max_select = int(field.get("maxSelect") or 0)
        if min_select > 0 and not max_select:
            max_problem: FieldError | None = required_error()
        else:
            max_problem = check_int(max_select, min_select)
        return collect(
            collectionId=None if field.get("collectionId") else required_error(),
            minSelect=check_int(min_select, 0),
            maxSelect=max_problem,
        )
