"""Apple's mapping of its id_token, checked against Apple's issuer and key set (served here)."""

import pytest
from pbk_oauth2.providers.apple import Apple
from pbk_sdk.oauth2 import ProviderError
from pbk_sdk.testing.oauth2 import RecordedApi, sample_id_token_claims, sample_token
from providers_testing import fetch, mapped

#: An Apple id_token's claims (values made up, shape as Apple documents them).
CLAIMS = {"iss": "https://appleid.apple.com", "sub": "001234.8b1c0a0e9f4e4d2c.1234",
          "email": "x7k2p9@privaterelay.appleid.com", "email_verified": "true",
          "is_private_email": "true", "auth_time": 1733446800, "nonce_supported": True}


async def apple_user(claims, jwks_path="/jwks"):
    with RecordedApi({}) as api:
        class LocalApple(Apple):
            jwks_url = api.url(jwks_path)

        token = sample_token(id_token=api.sign_id_token(claims))
        user = await fetch(LocalApple, token)
    return user, api.requests


async def test_apple_maps_the_checked_id_token_claims():
    claims = sample_id_token_claims(**CLAIMS)
    user, requests = await apple_user(claims)
    assert (user.id, user.email, user.name, user.username) == (CLAIMS["sub"], CLAIMS["email"],
                                                               "", "")
    assert user.raw_user == claims and user.access_token == "test-access-token"
    assert [(r.method, r.path) for r in requests] == [("GET", "/jwks")]


@pytest.mark.parametrize(("verified", "email"), [
    ("true", CLAIMS["email"]), (True, CLAIMS["email"]), ("false", ""), (None, "")],
    ids=["text", "bool", "false", "absent"])
def test_apple_email_only_when_verified(verified, email):
    user = mapped(Apple, {**CLAIMS, "email_verified": verified, "name": "Ann Lee"})
    assert (user.email, user.name) == (email, "Ann Lee")


@pytest.mark.parametrize("claims", [
    sample_id_token_claims(**{**CLAIMS, "iss": "https://issuer.test"}),
    sample_id_token_claims(**{**CLAIMS, "aud": "another-client"}),
    {key: value for key, value in sample_id_token_claims(**CLAIMS).items() if key != "exp"},
    sample_id_token_claims(**CLAIMS, exp=1_000_000),
], ids=["issuer", "audience", "no-exp", "expired"])
async def test_apple_refuses_id_tokens_not_for_this_client_from_apple(claims):
    with pytest.raises(ProviderError):
        await apple_user(claims)


async def test_apple_refuses_an_id_token_its_key_set_cannot_check():
    with pytest.raises(ProviderError):
        await apple_user(sample_id_token_claims(**CLAIMS), jwks_path="/no-keys")


async def test_apple_without_id_token_fails():
    with pytest.raises(ProviderError, match="empty id_token"):
        await fetch(Apple, sample_token())
