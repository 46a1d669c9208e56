"""``url``: govalidator's URL format and allowed hosts (PocketBase's ``field_url.go``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pbk_sdk.errors import FieldError

from ..gocompat.cast import cast_to_string
from ..gocompat.validators import go_url_parse, is_url
from .base import required_error
from .email import EmailType


class URLType(EmailType):
    """``url``: govalidator's URL format; ``onlyDomains``/``exceptDomains`` compare Go's
    ``url.Parse(value).Host`` (port included, empty without a scheme)."""

    name = "url"

    def validate(self, field: Mapping[str, Any], value: Any) -> FieldError | None:
        value = cast_to_string(value)
        if field.get("required") and value == "":
            return required_error()
        if value == "":
            return None
        if not is_url(value):
            return FieldError("validation_invalid_url", "Must be a valid url")
        parsed = go_url_parse(value)
        host = parsed[1] if parsed else ""
        only, excluded = field.get("onlyDomains") or [], field.get("exceptDomains") or []
        if (only and host not in only) or (excluded and host in excluded):
            return FieldError("validation_url_domain_not_allowed", "Url domain is not allowed")
        return None
