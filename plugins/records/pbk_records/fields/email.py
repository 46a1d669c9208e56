"""``email``: govalidator's email format and allowed domains (PocketBase's
``field_email.go``); the domain option checks are shared with ``url``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pbk_sdk.errors import FieldError

from ..gocompat.cast import cast_to_string
from ..gocompat.validators import is_domain, is_email
from .base import BuiltinFieldType, collect, required_error


def domains_problem(own: Any, other: Any) -> Any:
    """The ``onlyDomains``/``exceptDomains`` problems: only one of them may be set, and each
    entry must be a domain."""
    if other:
        return FieldError("validation_empty", "Must be blank.") if own else None
    bad = {
        str(i): FieldError("validation_is_domain", "Must be a valid domain.")
        for i, d in enumerate(own or [])
        if d and not is_domain(str(d))
    }
    return bad or None


class EmailType(BuiltinFieldType):
    """``email``: govalidator's email format; ``onlyDomains``/``exceptDomains`` compare the
    part after the last ``@`` exactly (case-sensitive)."""

    name = "email"
    options = {"exceptDomains": [], "onlyDomains": []}
    option_kinds = {"exceptDomains": "strlist", "onlyDomains": "strlist"}

    def normalize(self, field: Mapping[str, Any], value: Any) -> str:
        return cast_to_string(value)

    def validate(self, field: Mapping[str, Any], value: Any) -> FieldError | None:
        value = cast_to_string(value)
        if field.get("required") and value == "":
            return required_error()
        if value == "":
            return None
        if not is_email(value):
            return FieldError("validation_is_email", "Must be a valid email address.")
        domain = value[value.rfind("@") + 1:]
        only, excluded = field.get("onlyDomains") or [], field.get("exceptDomains") or []
        if (only and domain not in only) or (excluded and domain in excluded):
            return FieldError("validation_email_domain_not_allowed", "Email domain is not allowed")
        return None

    def from_db(self, field: Mapping[str, Any], raw: Any) -> str:
        return cast_to_string(raw)

    def check_options(self, field: Mapping[str, Any]) -> dict[str, Any]:
        only, excluded = field.get("onlyDomains") or [], field.get("exceptDomains") or []
        return collect(
            exceptDomains=domains_problem(excluded, only), onlyDomains=domains_problem(only, excluded)
        )
