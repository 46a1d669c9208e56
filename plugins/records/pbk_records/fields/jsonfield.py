"""``json``: any JSON value, stored as Go re-encodes it (PocketBase's ``field_json.go``).

The module is not named ``json`` so that it never stands for the standard library."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from pbk_sdk.body import json_too_deep
from pbk_sdk.errors import FieldError
from pbk_sdk.formats import go_quote

from ..gocompat.jsonenc import dump_json, go_json_dumps, go_json_value, strict_json_loads
from ..gocompat.strconv import go_number, is_number
from .base import MAX_SAFE_JSON_INT, BuiltinFieldType, check_int, collect, required_error

JSON_DEFAULT_MAX_SIZE = 1 << 20


class InvalidJSON:
    """A json field input PocketBase stores as a Go-quoted string that is not valid JSON
    (a string with control characters), or a value nested deeper than the SDK's
    ``MAX_JSON_DEPTH`` handed over by Python code (``raw`` is then empty; over HTTP the body
    is refused before); ``validate`` reports ``validation_invalid_json``."""

    __slots__ = ("raw",)

    def __init__(self, raw: str) -> None:
        self.raw = raw

    def __eq__(self, other: object) -> bool:
        return isinstance(other, InvalidJSON) and other.raw == self.raw

    def __hash__(self) -> int:
        return hash(self.raw)

    def __repr__(self) -> str:
        return f"InvalidJSON({self.raw!r})"


class JSONType(BuiltinFieldType):
    """``json``: any JSON value, ``maxSize`` in bytes of the stored JSON (0 = 1 MiB);
    required = not ``null``, ``""``, ``[]`` or ``{}``.

    A string input is read the way PocketBase reads multipart values: ``"true"``, ``"null"``,
    ``"[1,2]"``, ``"{...}"``, ``"12"`` and ``"\\"quoted\\""`` are JSON when valid, any other
    string is the JSON string itself. Non-string inputs are re-encoded as Go does (integral
    numbers lose their ``.0``, object keys sorted).
    """

    name = "json"
    options: ClassVar[Mapping[str, Any]] = {"maxSize": 0}
    option_kinds: ClassVar[Mapping[str, str]] = {"maxSize": "int"}

    def column_definition(self, field: Mapping[str, Any]) -> str:
        return "JSON DEFAULT NULL"

    def zero_value(self, field: Mapping[str, Any]) -> None:
        return None

    def is_blank(self, field: Mapping[str, Any], value: Any) -> bool:
        return value is None or value == "" or value == [] or value == {}

    def normalize(self, field: Mapping[str, Any], value: Any) -> Any:
        if isinstance(value, InvalidJSON):
            return value
        if isinstance(value, str):
            if value in ("null", "true", "false") or (value[:1] and value[0] in '0123456789-"[{'):
                try:
                    parsed = strict_json_loads(value)
                except ValueError:
                    pass
                else:
                    if not json_too_deep(parsed):
                        return parsed
            if value in ("null", "true", "false"):
                return strict_json_loads(value)
            quoted = go_quote(value)
            try:
                strict_json_loads(quoted)
            except ValueError:
                return InvalidJSON(quoted)
            return value
        if json_too_deep(value):
            return InvalidJSON("")
        return go_json_value(value)

    def raw(self, value: Any) -> str:
        """The JSON text PocketBase would store (for the size limit)."""
        if isinstance(value, InvalidJSON):
            return value.raw
        return go_json_dumps(value)

    def validate(self, field: Mapping[str, Any], value: Any) -> FieldError | None:
        max_size = int(field.get("maxSize") or 0)
        if max_size <= 0:
            max_size = JSON_DEFAULT_MAX_SIZE
        if len(self.raw(value).encode("utf-8", "surrogatepass")) > max_size:
            return FieldError(
                "validation_json_size_limit",
                f"The maximum allowed JSON size is {max_size} bytes",
                {"maxSize": max_size},
            )
        if isinstance(value, InvalidJSON):
            return FieldError("validation_invalid_json", "Must be a valid json value")
        if field.get("required") and self.is_blank(field, value):
            return required_error()
        return None

    def to_db(self, field: Mapping[str, Any], value: Any) -> str | None:
        if value is None:
            return None
        if isinstance(value, InvalidJSON):
            raise ValueError("invalid JSON value (validate it first)")  # noqa: TRY004 - a bad value
        return dump_json(value)

    def from_db(self, field: Mapping[str, Any], raw: Any) -> Any:
        if raw is None:
            return None
        if isinstance(raw, bytes):
            raw = raw.decode("utf-8", "replace")
        if isinstance(raw, str):
            try:
                value = strict_json_loads(raw)
            except ValueError:
                return raw
            return raw if json_too_deep(value) else value
        return go_number(raw) if is_number(raw) else raw

    def check_options(self, field: Mapping[str, Any]) -> dict[str, Any]:
        return collect(maxSize=check_int(field.get("maxSize") or 0, 0, MAX_SAFE_JSON_INT))
