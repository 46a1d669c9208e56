"""The generic OpenID Connect provider: userinfo mode, and id_token mode with its checks."""

import pytest
from joserfc.jwk import RSAKey
from pbk_oauth2.providers.oidc import OIDC
from pbk_sdk.oauth2 import ProviderError
from pbk_sdk.testing.oauth2 import RecordedApi, fetch_user, sample_id_token_claims, sample_token

USERINFO = {"sub": "248289761001", "name": "Jane Doe", "preferred_username": "j.doe",
            "picture": "http://example.com/janedoe/me.jpg", "email": "janedoe@example.com",
            "email_verified": "true"}


async def test_oidc_userinfo_mode_maps_standard_claims():
    with RecordedApi({"GET /userinfo": USERINFO}) as api:
        user = await fetch_user(OIDC, api, user_info_url=api.url("/userinfo"))
    assert (user.id, user.name, user.username, user.email, user.avatar_url) == (
        "248289761001", "Jane Doe", "j.doe", "janedoe@example.com", USERINFO["picture"])


async def id_token_user(claims, **extra):
    with RecordedApi({}) as api:
        token = sample_token(id_token=api.sign_id_token(claims))
        extra = {key: api.url(value) if key == "jwksURL" else value for key, value in extra.items()}
        return await fetch_user(OIDC, api, token, extra=extra)


async def test_oidc_id_token_mode_checks_signature_and_issuer():
    claims = sample_id_token_claims(email="jane@example.com", email_verified=True, name="Jane")
    user = await id_token_user(claims, jwksURL="/jwks", issuers=["https://issuer.test"])
    assert (user.id, user.email, user.name) == ("subject-1", "jane@example.com", "Jane")
    assert user.raw_user == claims


@pytest.mark.parametrize(("claims", "extra"), [
    (sample_id_token_claims(iss="https://evil.test"), {"issuers": ["https://issuer.test"]}),
    (sample_id_token_claims(aud="someone-else"), {}),
    (sample_id_token_claims(exp=1_000_000), {}),
    (sample_id_token_claims(), {"jwksURL": "/missing"}),
], ids=["issuer", "audience", "expired", "no-jwks"])
async def test_oidc_id_token_mode_refuses_bad_tokens(claims, extra):
    with pytest.raises(ProviderError):
        await id_token_user(claims, **extra)


async def test_oidc_id_token_signed_by_another_key_is_refused():
    other_key = RSAKey.generate_key(2048, {"kid": "test-key", "alg": "RS256"})
    with RecordedApi({}, key=other_key) as signer, RecordedApi({}) as api:
        token = sample_token(id_token=signer.sign_id_token(sample_id_token_claims()))
        with pytest.raises(ProviderError, match="validation failed"):
            await fetch_user(OIDC, api, token, extra={"jwksURL": api.url("/jwks")})
