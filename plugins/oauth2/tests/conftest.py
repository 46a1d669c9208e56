"""One set of servers for the OAuth2 flow tests (module scope: starting them is the slow part):
the real PocketBase and ``pbk serve`` side by side, and a real OpenID Connect provider on
loopback whose clients may send users back to either of them.

``follow(url)`` plays the browser: it follows the provider's redirects (keeping its cookies)
until the one back to the app, and returns that URL (with ``code`` and ``state``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx
import pytest
from oauth2_idp import Idp, start_idp
from pbk_sdk.testing import Program, pocketbase_and_pbk

PLUGINS = ["records", "auth", "files", "realtime", "oauth2"]
#: The provider's clients: one with PKCE (``oidc``, and the named ``google``), one for the
#: ``id_token`` mode, one without PKCE (``oidc3``).
CLIENTS = {"oidc": ("pbk-client", "pbk-secret"), "oidc2": ("pbk-client-2", "pbk-secret-2"),
           "oidc3": ("no-pkce", "no-pkce-secret"), "google": ("pbk-client", "pbk-secret")}
CALLBACK = "/callback"


@dataclass
class Servers:
    pocketbase: Program
    pbk: Program
    idp: Idp

    def providers(self, **overrides: Any) -> list[dict[str, Any]]:
        """Every test provider configured against the IdP (``overrides`` by provider name)."""
        url = self.idp.url
        configs = {
            "oidc": {"authURL": f"{url}/auth", "tokenURL": f"{url}/token", "userInfoURL": f"{url}/me"},
            "oidc2": {"authURL": f"{url}/auth", "tokenURL": f"{url}/token",
                      "extra": {"jwksURL": f"{url}/jwks", "issuers": [url]}},
            "oidc3": {"authURL": f"{url}/auth", "tokenURL": f"{url}/token",
                      "userInfoURL": f"{url}/me", "pkce": False},
            "google": {"authURL": f"{url}/auth", "tokenURL": f"{url}/token", "userInfoURL": f"{url}/me"},
        }
        return [{"name": name, "clientId": CLIENTS[name][0], "clientSecret": CLIENTS[name][1],
                 **config, **overrides.get(name, {})} for name, config in configs.items()]

    def configure(self, program: Program, collection: str = "users", **oauth2: Any) -> None:
        body = {"oauth2": {"enabled": True, "providers": self.providers(), **oauth2}}
        status, answer = program.call("PATCH", f"/api/collections/{collection}", body)
        assert status == 200, answer


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    base = tmp_path_factory.mktemp("oauth2")
    with pocketbase_and_pbk(base, PLUGINS) as (pocketbase, pbk):
        redirects = [f"{p.url}{path}" for p in (pocketbase, pbk) for path in (CALLBACK, "/api/oauth2-redirect")]
        clients = [{"client_id": client_id, "client_secret": secret, "redirect_uris": redirects,
                    "grant_types": ["authorization_code", "refresh_token"],
                    "response_types": ["code"]} for client_id, secret in set(CLIENTS.values())]
        idp = start_idp(clients)
        try:
            servers = Servers(pocketbase, pbk, idp)
            for program in (pocketbase, pbk):
                servers.configure(program)
            yield servers
        finally:
            idp.stop()


def follow(url: str, stop_at: str) -> str:
    """Act as the user's browser on ``url`` (a fresh one: no session at the provider) until a
    redirect to a URL starting with ``stop_at``; that URL."""
    with httpx.Client(timeout=10) as browser:
        for _ in range(20):
            response = browser.get(url)
            location = response.headers.get("location")
            assert response.is_redirect and location, f"{url}: {response.status_code} {response.text[:300]}"
            url = urljoin(url, location)
            if url.startswith(stop_at):
                return url
    raise AssertionError("too many redirects")


def code_for(servers: Servers, program: Program, provider: str, account: str,
             **claims: Any) -> dict[str, str]:
    """Sign ``account`` in at the IdP through ``provider``'s auth-methods entry: the body of
    the ``auth-with-oauth2`` call that follows (provider, code, codeVerifier, redirectURL)."""
    servers.idp.sign_in_as(account, **claims)
    methods = program.client.get("/api/collections/users/auth-methods").json()
    entry = next(p for p in methods["oauth2"]["providers"] if p["name"] == provider)
    redirect = program.url + CALLBACK
    back = follow(entry["authURL"] + redirect, redirect)
    query = parse_qs(urlsplit(back).query)
    assert query["state"] == [entry["state"]]
    return {"provider": provider, "code": query["code"][0], "codeVerifier": entry["codeVerifier"],
            "redirectURL": redirect}
