"""Test an OAuth2 provider's mapping against recorded API answers served on loopback.

``RecordedApi`` is a real HTTP server on 127.0.0.1 that answers each ``"METHOD /path"`` with a
recorded JSON payload (a provider's real user API answer, with made-up values), and records the
requests it got, so a test checks both what the provider sent and what it made of the answer::

    async def test_acme_maps_its_user():
        with RecordedApi({"GET /me": {"id": 7, "name": "Ann", "email": "a@x.io"}}) as api:
            user = await fetch_user(Acme, api, user_info_url=api.url("/me"))
        assert (user.id, user.email) == ("7", "a@x.io")
        assert api.requests[0].headers["authorization"] == "Bearer test-access-token"

It also signs ``id_token`` s with an RSA key it serves at ``api.url("/jwks")``.
"""

from __future__ import annotations

import functools
import json
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self

import httpx
from joserfc import jwt
from joserfc.jwk import RSAKey

from ..oauth2 import AuthUser, OAuth2Provider, OAuth2Token, ProviderConfig

#: A recorded answer: a JSON payload (status 200), or ``(status, payload)``.
Answer = Any


@functools.cache
def signing_key() -> RSAKey:
    """One RSA key per process: making one takes a while."""
    return RSAKey.generate_key(2048, {"kid": "test-key", "alg": "RS256"})


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    headers: Mapping[str, str]
    body: bytes


@dataclass
class RecordedApi:
    """A loopback HTTP server answering ``routes`` (``{"GET /user": payload}``); the path is
    matched without its query string, an unknown route is a 404."""

    routes: dict[str, Answer]
    requests: list[RecordedRequest] = field(default_factory=list)
    key: RSAKey = field(default_factory=lambda: signing_key())

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> Self:
        """Listen (``with RecordedApi(...) as api`` starts and closes it for you)."""
        self.routes.setdefault("GET /jwks", {"keys": [self.key.as_dict(private=False)]})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def url(self, path: str = "") -> str:
        return f"http://127.0.0.1:{self._server.server_port}{path}"

    def sign_id_token(self, claims: Mapping[str, Any]) -> str:
        """An RS256 ``id_token`` with ``claims``, verifiable with ``url("/jwks")``."""
        return jwt.encode({"alg": "RS256", "kid": "test-key"}, dict(claims), self.key)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        api = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                path = self.path.split("?", 1)[0]
                api.requests.append(RecordedRequest(self.command, self.path,
                                                    {k.lower(): v for k, v in self.headers.items()},
                                                    body))
                answer = api.routes.get(f"{self.command} {path}", (404, {"error": "not found"}))
                status, payload = answer if isinstance(answer, tuple) else (200, answer)
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _answer

            def log_message(self, *args: Any) -> None:
                """Quiet: the test reads ``api.requests`` instead."""

        return Handler


def sample_token(**fields: Any) -> OAuth2Token:
    """A token as a code exchange returns it (an hour's expiry, a refresh token)."""
    values: dict[str, Any] = {"access_token": "test-access-token",
                              "refresh_token": "test-refresh-token",
                              "expiry": None}
    values.update(fields)
    return OAuth2Token(**values)




async def fetch_user(provider_class: type[OAuth2Provider], api: RecordedApi,
                     token: OAuth2Token | None = None, *, name: str = "test",
                     **config: Any) -> AuthUser:
    """``provider_class`` configured with ``config`` (``ProviderConfig`` fields; ``client_id``
    defaults to ``"test-client"``) asked for the user behind ``token``."""
    config.setdefault("client_id", "test-client")
    async with httpx.AsyncClient(timeout=10) as http:
        provider = provider_class(name, ProviderConfig(**config), http)
        return await provider.fetch_auth_user(token or sample_token())


def sample_id_token_claims(**claims: Any) -> dict[str, Any]:
    """Claims of a fresh ``id_token`` for ``test-client`` (override or add with ``claims``)."""
    now = int(time.time())
    values: dict[str, Any] = {"iss": "https://issuer.test", "aud": "test-client",
                              "sub": "subject-1", "iat": now, "exp": now + 3600}
    values.update(claims)
    return values
