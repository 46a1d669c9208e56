"""An auth collection's ``oauth2`` options as PocketBase 0.40 saves them: providers merged by
name over the stored ones (so the write-only ``clientSecret`` survives a save that omits it),
mapped fields that name no field cleared, and the checks of an enabled ``oauth2``."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pbk_sdk.errors import FieldError
from pbk_sdk.formats import is_url
from pbk_sdk.oauth2 import provider_names

MAPPED_FIELDS = ("id", "name", "username", "avatarURL")
URL_KEYS = ("authURL", "tokenURL", "userInfoURL")
PROVIDER_DEFAULTS: dict[str, Any] = {"pkce": None, "name": "", "clientId": "", "authURL": "",
                                     "tokenURL": "", "userInfoURL": "", "displayName": "", "extra": {}}


def merge_stored_providers(oauth2: Any, stored: Any) -> None:
    """Lay each provider of ``oauth2`` over the stored provider of the same name, in place."""
    if not isinstance(oauth2, dict) or not isinstance(oauth2.get("providers"), list):
        return
    stored_list = stored.get("providers") if isinstance(stored, Mapping) else None
    by_name = {p.get("name"): p for p in stored_list or [] if isinstance(p, Mapping)}
    oauth2["providers"] = [
        {**PROVIDER_DEFAULTS, **by_name.get(p.get("name"), {}), **p} if isinstance(p, Mapping) else p
        for p in oauth2["providers"]
    ]


def clear_unknown_mapped_fields(oauth2: Any, field_names: Iterable[str]) -> None:
    """A mapped field that names no field of the collection becomes ``""``, as PocketBase
    saves it."""
    mapped = oauth2.get("mappedFields") if isinstance(oauth2, dict) else None
    if not isinstance(mapped, dict):
        return
    known = set(field_names)
    for key in MAPPED_FIELDS:
        if mapped.get(key) and mapped.get(key) not in known:
            mapped[key] = ""


def oauth2_errors(oauth2: Any) -> dict[str, Any]:
    """PocketBase's errors for ``oauth2`` (none while it is disabled): a repeated provider
    first, else each provider's own problems by position."""
    if not isinstance(oauth2, Mapping) or not oauth2.get("enabled"):
        return {}
    providers = [p if isinstance(p, Mapping) else {} for p in oauth2.get("providers") or []]
    seen: set[str] = set()
    for index, provider in enumerate(providers):
        name = provider.get("name") or ""
        if name in seen:
            return {"providers": {str(index): {"name": FieldError(
                "validation_duplicated_provider", f"The provider {name} is already registered.",
                {"name": name})}}}
        if name:
            seen.add(name)
    problems = {str(i): errors for i, p in enumerate(providers) if (errors := provider_errors(p))}
    return {"providers": problems} if problems else {}


def provider_errors(provider: Mapping[str, Any]) -> dict[str, FieldError]:
    errors: dict[str, FieldError] = {}
    name = provider.get("name") or ""
    if not name:
        errors["name"] = FieldError("validation_required", "Cannot be blank.")
    elif name not in provider_names():
        errors["name"] = FieldError("validation_missing_provider",
                                    f"Invalid or missing provider with name {name}.", {"name": name})
    for key in ("clientId", "clientSecret"):
        if not provider.get(key):
            errors[key] = FieldError("validation_required", "Cannot be blank.")
    for key in URL_KEYS:
        value = provider.get(key)
        if value and not (isinstance(value, str) and is_url(value)):
            errors[key] = FieldError("validation_is_url", "Must be a valid URL.")
    return errors
