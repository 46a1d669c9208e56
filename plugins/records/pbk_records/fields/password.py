"""``password``: the plain password's checks; the records layer stores its hash
(PocketBase's ``field_password.go``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from pbk_sdk.errors import FieldError

from ..gocompat.cast import cast_to_string
from ..gocompat.regexp import go_regex_match
from .base import StringFieldType, check_int, collect, regex_problem

PASSWORD_DEFAULT_MAX = 71
BCRYPT_MAX_BYTES = 72


class PasswordType(StringFieldType):
    """``password``: ``validate`` checks the plain password (``min``, ``max`` (0 = 71)
    characters, ``pattern``, at most 72 UTF-8 bytes for bcrypt); the records layer hashes it
    with the ``password_hasher`` service before ``to_db``, which stores the hash as given.
    ``from_db`` returns the stored hash (for sign-in); the API never outputs it."""

    name = "password"
    options: ClassVar[Mapping[str, Any]] = {"cost": 0, "max": 0, "min": 0, "pattern": ""}
    option_kinds: ClassVar[Mapping[str, str]] = {"cost": "int", "max": "int", "min": "int", "pattern": "str"}

    def check_text(self, field: Mapping[str, Any], value: str) -> FieldError | None:
        if len(value.encode("utf-8", "surrogatepass")) > BCRYPT_MAX_BYTES:
            return FieldError("validation_invalid_value", "Invalid value.")
        length = len(value)
        minimum = int(field.get("min") or 0)
        if length < minimum:
            return FieldError("validation_min_text_constraint", f"Must be at least {minimum} character(s)")
        maximum = int(field.get("max") or 0)
        if maximum <= 0:
            maximum = PASSWORD_DEFAULT_MAX
        if length > maximum:
            return FieldError("validation_max_text_constraint", f"Must be less than {maximum} character(s)")
        pattern = field.get("pattern")
        if pattern and not go_regex_match(str(pattern), value):
            return FieldError("validation_invalid_format", "Invalid value format")
        return None

    def to_db(self, field: Mapping[str, Any], value: Any) -> str:
        return cast_to_string(value)

    def check_options(self, field: Mapping[str, Any]) -> dict[str, Any]:
        minimum = field.get("min") or 0
        return collect(
            min=check_int(minimum, 1, PASSWORD_DEFAULT_MAX),
            max=check_int(field.get("max") or 0, minimum, PASSWORD_DEFAULT_MAX),
            cost=check_int(field.get("cost") or 0, 4, 31),
            pattern=regex_problem(field.get("pattern")),
        )
