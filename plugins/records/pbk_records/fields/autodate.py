"""``autodate``: dates the records layer sets on create and/or update
(PocketBase's ``field_autodate.go``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from pbk_sdk.errors import FieldError

from .date import DateType


class AutodateType(DateType):
    """``autodate``: set by the records layer on create (``onCreate``) and/or update
    (``onUpdate``); client input is ignored and never fails validation. Unlike other fields it
    has no ``help``/``required``; PocketBase's defaults for missing options are both false."""

    name = "autodate"
    input_keys: ClassVar[bool] = False
    options: ClassVar[Mapping[str, Any]] = {"onCreate": False, "onUpdate": False}
    option_kinds: ClassVar[Mapping[str, str]] = {"onCreate": "bool", "onUpdate": "bool"}

    def validate(self, field: Mapping[str, Any], value: Any) -> FieldError | None:
        return None

    def check_options(self, field: Mapping[str, Any]) -> dict[str, Any]:
        if field.get("onCreate") or field.get("onUpdate"):
            return {}
        message = "Either onCreate or onUpdate must be enabled."
        return {
            "onCreate": FieldError("validation_required", message),
            "onUpdate": FieldError("validation_required", message),
        }
