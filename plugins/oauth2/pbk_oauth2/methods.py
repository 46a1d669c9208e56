"""What clients see of the providers: the OAuth2 part of ``GET /api/collections/{collection}/
auth-methods`` (``pbk_sdk.interfaces.OAuth2Methods``: each configured provider with a fresh
state, PKCE values and its consent URL, as PocketBase lists them), and the catalogue of every
installed provider the dashboard picks from."""

from __future__ import annotations

import logging
from typing import Any

from pbk_sdk import App
from pbk_sdk.auth import require_superuser
from pbk_sdk.interfaces import CollectionInfo

from .protocol import authorization_url, code_challenge, new_code_verifier, new_state
from .state import OAUTH2, OAuth2State

log = logging.getLogger(__name__)

#: Extra consent-URL parameters by provider: Apple posts its answer (with the user's name).
URL_PARAMS = {"apple": {"response_mode": "form_post"}}


class Methods:
    def __init__(self, state: OAuth2State) -> None:
        self.state = state

    def providers(self, collection: CollectionInfo) -> list[dict[str, Any]]:
        listed = []
        for entry in (collection.options.get("oauth2") or {}).get("providers") or []:
            provider = self.state.catalogue.build(entry, self.state.http) if isinstance(entry, dict) else None
            if provider is None:
                log.debug("OAuth2 provider %r is not installed; left out", entry)
                continue
            state = new_state()
            verifier = new_code_verifier() if provider.pkce else ""
            url = authorization_url(provider, state, verifier, URL_PARAMS.get(provider.name))
            listed.append({
                "name": provider.name,
                "displayName": provider.display_name or provider.name,
                "logo": provider.logo,
                "state": state,
                "authURL": url + "&redirect_uri=",
                "authUrl": url + "&redirect_uri=",
                "codeVerifier": verifier,
                "codeChallenge": code_challenge(verifier) if verifier else "",
                "codeChallengeMethod": "S256" if verifier else "",
            })
        return listed


class ProviderCatalogue:
    """``GET /api/collections/meta/oauth2-providers`` (superusers): every installed provider."""

    def __init__(self, app: App) -> None:
        self.app = app

    async def on_get(self, req: Any, resp: Any) -> None:
        require_superuser(req)
        resp.media = self.app.state[OAUTH2].catalogue.listing()
