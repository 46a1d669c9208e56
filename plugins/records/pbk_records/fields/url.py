"""``url``: govalidator's URL format and allowed hosts (PocketBase's ``field_url.go``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pbk_sdk.errors import FieldError
from pbk_sdk.formats import go_url_parse, is_url

from .email import EmailType, domain_allowed


class URLType(EmailType):
    """``url``: govalidator's URL format; ``onlyDomains``/``exceptDomains`` compare Go's
    ``url.Parse(value).Host`` (port included, empty without a scheme)."""

    name = "url"

    def check_text(self, field: Mapping[str, Any], value: str) -> FieldError | None:
        if not is_url(value):
            return FieldError("validation_invalid_url", "Must be a valid url")
        parsed = go_url_parse(value)
        if not domain_allowed(field, parsed[1] if parsed else ""):
            return FieldError("validation_url_domain_not_allowed", "Url domain is not allowed")
        return None
