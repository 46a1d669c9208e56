"""``email``: govalidator's email format and allowed domains (PocketBase's
``field_email.go``); the domain option checks are shared with ``url``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from pbk_sdk.errors import FieldError
from pbk_sdk.formats import is_domain, is_email

from .base import StringFieldType, collect


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


def domain_allowed(field: Mapping[str, Any], domain: str) -> bool:
    """Whether ``onlyDomains`` and ``exceptDomains`` let ``domain`` through (exact match)."""
    only, excluded = field.get("onlyDomains") or [], field.get("exceptDomains") or []
    return not ((only and domain not in only) or (excluded and domain in excluded))


class EmailType(StringFieldType):
    """``email``: govalidator's email format; ``onlyDomains``/``exceptDomains`` compare the
    part after the last ``@`` exactly (case-sensitive)."""

    name = "email"
    options: ClassVar[Mapping[str, Any]] = {"exceptDomains": [], "onlyDomains": []}
    option_kinds: ClassVar[Mapping[str, str]] = {"exceptDomains": "strlist", "onlyDomains": "strlist"}

    def check_text(self, field: Mapping[str, Any], value: str) -> FieldError | None:
        if not is_email(value):
            return FieldError("validation_is_email", "Must be a valid email address.")
        if not domain_allowed(field, value[value.rfind("@") + 1:]):
            return FieldError("validation_email_domain_not_allowed", "Email domain is not allowed")
        return None

    def check_options(self, field: Mapping[str, Any]) -> dict[str, Any]:
        only, excluded = field.get("onlyDomains") or [], field.get("exceptDomains") or []
        return collect(
            exceptDomains=domains_problem(excluded, only), onlyDomains=domains_problem(only, excluded)
        )
