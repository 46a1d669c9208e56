"""The installed providers: classes found under ``pbk.oauth2_providers``, built for a collection
from its ``oauth2.providers`` entry, and listed for the dashboard (PocketBase's
``GET /api/collections/meta/oauth2-providers``)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pbk_sdk.oauth2 import OAuth2Provider, ProviderConfig, installed_providers

if TYPE_CHECKING:
    import httpx

log = logging.getLogger(__name__)


class Catalogue:
    """Provider classes by name, loaded once per app (a provider that fails to load is logged
    and left out, so one broken distribution does not stop sign-in with the others)."""

    def __init__(self, classes: Mapping[str, type[OAuth2Provider]]) -> None:
        self.classes = dict(classes)

    @classmethod
    def installed(cls) -> Catalogue:
        return cls(installed_providers(on_error=lambda error: log.error("%s", error)))

    def build(self, entry: Mapping[str, Any], http: httpx.AsyncClient) -> OAuth2Provider | None:
        """The provider a collection's ``oauth2.providers`` entry configures, None when that
        name is not installed (or its class fails to build: logged)."""
        provider_class = self.classes.get(str(entry.get("name") or ""))
        if provider_class is None:
            return None
        pkce = entry.get("pkce")
        extra = entry.get("extra")
        config = ProviderConfig(
            client_id=str(entry.get("clientId") or ""),
            client_secret=str(entry.get("clientSecret") or ""),
            auth_url=str(entry.get("authURL") or ""),
            token_url=str(entry.get("tokenURL") or ""),
            user_info_url=str(entry.get("userInfoURL") or ""),
            display_name=str(entry.get("displayName") or ""),
            pkce=pkce if isinstance(pkce, bool) else None,
            extra=extra if isinstance(extra, Mapping) else {},
        )
        try:
            return provider_class(str(entry["name"]), config, http)
        except Exception:  # a provider is third-party code: a broken one is left out
            log.exception("OAuth2 provider %r could not be configured", entry["name"])
            return None

    def listing(self) -> list[dict[str, str]]:
        """``{name, displayName, logo}`` by ``order``, then name, as PocketBase sorts them."""
        ordered = sorted(self.classes.items(), key=lambda item: (item[1].order, item[0]))
        return [{"name": name, "displayName": cls.display_name, "logo": cls.logo}
                for name, cls in ordered]


