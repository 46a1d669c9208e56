"""Checking an OpenID Connect ``id_token`` as PocketBase's ``OIDC``/``Apple`` providers do.

joserfc parses and verifies the JWS; the claim rules are golang-jwt's validator as PocketBase
configures it: ``aud`` must hold the client id, ``iat``, ``nbf`` and ``exp`` are checked when
present (``exp`` also required when asked) with a leeway, then ``iss`` against a list, then the
signature against a JSON Web Key Set whose key has the token's ``kid`` and a non-empty ``alg``.
"""

from __future__ import annotations

import hmac
import json
from typing import TYPE_CHECKING, Any

from joserfc import jws
from joserfc import jwt as jose_jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from .oauth2 import ProviderError, as_object

if TYPE_CHECKING:
    from .oauth2 import OAuth2Provider

#: The key types PocketBase's JWKS check accepts: RSA and Ed25519.
SIGNATURE_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "EdDSA", "Ed25519")


async def verified_claims(provider: OAuth2Provider, id_token: str, *, jwks_url: str,
                          issuers: tuple[str, ...], require_expiry: bool, check_audience: bool,
                          leeway: int, now: float) -> dict[str, Any]:
    if not id_token:
        raise ProviderError("empty id_token")
    try:
        compact = jws.extract_compact(id_token.encode())
        claims = as_object(json.loads(compact.payload))
    except (JoseError, ValueError) as error:
        raise ProviderError(f"malformed id_token: {error}") from error
    check_time_claims(claims, require_expiry=require_expiry, leeway=leeway, now=now)
    if check_audience:
        audience_holds(claims, provider.client_id)
    if issuers and not any(hmac.compare_digest(str(claims.get("iss", "")), issuer)
                           for issuer in issuers):
        raise ProviderError(f"iss must be one of {list(issuers)}, got {claims.get('iss')!r}")
    if jwks_url:
        kid = compact.headers().get("kid")
        if not kid:
            raise ProviderError("id_token validation failed: missing kid header value")
        keys = await signing_keys(provider, jwks_url, str(kid))
        try:
            jose_jwt.decode(id_token, keys, algorithms=SIGNATURE_ALGORITHMS)
        except (JoseError, ValueError) as error:
            raise ProviderError(f"id_token validation failed: {error}") from error
    return claims


def check_time_claims(claims: dict[str, Any], *, require_expiry: bool, leeway: int,
                      now: float) -> None:
    for name in ("exp", "iat", "nbf"):
        if name in claims and not isinstance(claims[name], int | float):
            raise ProviderError(f"invalid {name} claim")
    if "exp" in claims:
        if now - leeway >= claims["exp"]:
            raise ProviderError("token is expired")
    elif require_expiry:
        raise ProviderError("exp claim is required")
    if "iat" in claims and claims["iat"] > now + leeway:
        raise ProviderError("token used before issued")
    if "nbf" in claims and claims["nbf"] > now + leeway:
        raise ProviderError("token is not valid yet")


def audience_holds(claims: dict[str, Any], client_id: str) -> None:
    audience = claims.get("aud")
    audiences = [audience] if isinstance(audience, str) else audience
    if not isinstance(audiences, list) or not any(
            isinstance(aud, str) and hmac.compare_digest(aud, client_id) for aud in audiences):
        raise ProviderError("token has invalid audience")


async def signing_keys(provider: OAuth2Provider, jwks_url: str, kid: str) -> KeySet:
    """The key with ``kid`` (and a non-empty ``alg``) from the key set at ``jwks_url``."""
    document = as_object(await provider.request_json(None, "GET", jwks_url))
    keys = [key for key in document.get("keys") or []
            if isinstance(key, dict) and key.get("kid") == kid and key.get("alg")]
    if not keys:
        raise ProviderError(f"id_token validation failed: missing JWK with kid {kid!r} and "
                            "non-empty alg")
    try:
        return KeySet.import_key_set({"keys": keys[:1]})
    except (JoseError, ValueError, TypeError) as error:
        raise ProviderError(f"id_token validation failed: bad JWK: {error}") from error
