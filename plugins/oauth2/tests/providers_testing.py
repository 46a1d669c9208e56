"""Shared by the provider mapping tests: a provider asked through a recorded API, cheaply, and
its ``map_user`` called without the network.

``pbk_sdk.testing.oauth2.fetch_user`` makes a new HTTP client per call, and with it a TLS
context (25-65 ms on a busy machine); the recorded APIs are plain HTTP on loopback, so
``fetch`` shares one context, which keeps the ~150 provider tests within their time budget.
The rule variants of one mapping (verified or not, active or not) only need ``map_user``,
which is pure: ``mapped``."""

import functools
import ssl
from typing import Any

import httpx
from pbk_sdk.oauth2 import AuthUser, OAuth2Provider, OAuth2Token, ProviderConfig
from pbk_sdk.testing.oauth2 import RecordedApi, RecordedRequest, sample_token


@functools.cache
def unused_tls_context() -> ssl.SSLContext:
    """One context for every client: the tests never leave plain-HTTP loopback."""
    return ssl.create_default_context()


def configured(provider_class: type[OAuth2Provider], http: httpx.AsyncClient | None = None,
               **config: Any) -> OAuth2Provider:
    """``provider_class`` configured as a collection would (``client_id`` ``test-client``);
    without ``http`` only for ``map_user``, ``setup`` and the class defaults."""
    config.setdefault("client_id", "test-client")
    return provider_class("test", ProviderConfig(**config), http)  # type: ignore[arg-type]


async def fetch(provider_class: type[OAuth2Provider], token: OAuth2Token | None = None,
                **config: Any) -> AuthUser:
    """``fetch_user``'s equivalent: the user behind ``token`` (the sample token by default),
    ``config`` being ``ProviderConfig`` fields (``user_info_url=api.url(...)``)."""
    async with httpx.AsyncClient(timeout=10, verify=unused_tls_context()) as http:
        provider = configured(provider_class, http, **config)
        return await provider.fetch_auth_user(token or sample_token())


async def fetch_recorded(provider_class: type[OAuth2Provider], routes: dict[str, Any],
                         user_path: str, token: OAuth2Token | None = None,
                         **config: Any) -> tuple[AuthUser, list[RecordedRequest]]:
    """``fetch`` against a ``RecordedApi`` answering ``routes``, the user API at ``user_path``
    of it; the user and the requests the provider sent."""
    with RecordedApi(routes) as api:
        user = await fetch(provider_class, token, user_info_url=api.url(user_path), **config)
    return user, api.requests


def mapped(provider_class: type[OAuth2Provider], payload: dict[str, Any],
           **token: Any) -> AuthUser:
    """``payload`` (a user API answer) mapped by ``provider_class``; ``token`` overrides
    fields of the sample token."""
    return configured(provider_class).map_user(payload, sample_token(**token))
