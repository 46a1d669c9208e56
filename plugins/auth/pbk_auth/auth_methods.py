"""``GET /api/collections/{collection}/auth-methods``: which sign-in methods a collection
offers, in PocketBase's shape (and its legacy keys)."""

from __future__ import annotations

from typing import Any

from pbk_sdk.interfaces import OAUTH2_METHODS

from .services import AuthEndpoint


class AuthMethods(AuthEndpoint):
    async def on_get(self, req: Any, resp: Any, collection: str) -> None:
        info = self.collection(collection)
        options = info.options
        password = options.get("passwordAuth") or {}
        oauth2 = options.get("oauth2") or {}
        identity_fields = list(password.get("identityFields") or [])
        oauth2_methods = self.app.state.get(OAUTH2_METHODS)
        providers: list[dict[str, Any]] = []
        if oauth2.get("enabled") and oauth2_methods is not None:
            providers = oauth2_methods.providers(info)
        resp.media = {
            "password": {
                "identityFields": identity_fields,
                "enabled": bool(password.get("enabled")),
            },
            "oauth2": {"providers": providers, "enabled": bool(oauth2.get("enabled"))},
            "mfa": _enabled_for(options.get("mfa") or {}, 600),
            "otp": _enabled_for(options.get("otp") or {}, 180),
            "authProviders": [{**provider, "logo": ""} for provider in providers],
            "usernamePassword": bool(password.get("enabled")) and "username" in identity_fields,
            "emailPassword": bool(password.get("enabled")) and "email" in identity_fields,
        }


def _enabled_for(options: dict[str, Any], default_duration: int) -> dict[str, Any]:
    """``{enabled, duration}``; the duration is 0 when the method is off."""
    enabled = bool(options.get("enabled"))
    return {
        "enabled": enabled,
        "duration": int(options.get("duration") or default_duration) if enabled else 0,
    }
