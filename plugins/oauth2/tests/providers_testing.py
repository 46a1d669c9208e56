"""Shared by the provider mapping tests: a provider's ``map_user`` called without the network.

A recorded-API round trip (``pbk_sdk.testing.oauth2.fetch_user``) costs a loopback server and
an HTTP client, ~0.1 s; the rule variants of one mapping (verified or not, active or not) only
need ``map_user``, which is pure."""

from typing import Any

from pbk_sdk.oauth2 import AuthUser, OAuth2Provider, ProviderConfig
from pbk_sdk.testing.oauth2 import sample_token


def configured(provider_class: type[OAuth2Provider], **config: Any) -> OAuth2Provider:
    """``provider_class`` configured as a collection would (``client_id`` ``test-client``),
    without an HTTP client: for ``map_user``, ``setup`` and the class defaults."""
    config.setdefault("client_id", "test-client")
    return provider_class("test", ProviderConfig(**config), http=None)  # type: ignore[arg-type]


def mapped(provider_class: type[OAuth2Provider], payload: dict[str, Any],
           **token: Any) -> AuthUser:
    """``payload`` (a user API answer) mapped by ``provider_class``; ``token`` overrides
    fields of the sample token."""
    return configured(provider_class).map_user(payload, sample_token(**token))
