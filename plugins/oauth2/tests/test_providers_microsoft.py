"""Microsoft's mapping of Graph's /me, and the e-mail taken from the id_token on request."""

import pytest
from pbk_oauth2.providers.microsoft import Microsoft, email_from_claims
from pbk_sdk.oauth2 import ProviderError
from pbk_sdk.testing.oauth2 import RecordedApi, sample_id_token_claims, sample_token
from providers_testing import configured, fetch

#: GET /v1.0/me, as Graph answers it (values made up, shape recorded).
ME = {"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users/$entity",
      "businessPhones": [], "displayName": "Adele Vance", "givenName": "Adele",
      "jobTitle": None, "mail": "adele@contoso.example", "mobilePhone": None,
      "officeLocation": None, "preferredLanguage": "en-US", "surname": "Vance",
      "userPrincipalName": "adele@contoso.example", "id": "87d349ed-44d7-43e1-9a83-5f2406dee5bd"}
#: The optional e-mail claims of an id_token.
EMAIL_CLAIMS = {"email": "adele@owned.example", "xms_edov": True,
                "verified_primary_email": "adele@primary.example"}


async def microsoft_user(setting=None, **claims):
    extra = {} if setting is None else {"idTokenEmailClaim": setting}
    with RecordedApi({"GET /me": ME}) as api:
        # Its audience is not checked: the token came straight from Microsoft's token endpoint.
        id_token = api.sign_id_token(sample_id_token_claims(aud="graph", **claims))
        user = await fetch(Microsoft, sample_token(id_token=id_token),
                                user_info_url=api.url("/me"), extra=extra)
    return user, api.requests


async def test_microsoft_maps_graph_me():
    user, requests = await microsoft_user()
    assert (user.id, user.name, user.username, user.email, user.avatar_url) == (
        ME["id"], "Adele Vance", "", "adele@contoso.example", "")
    assert user.raw_user == ME
    assert [(r.method, r.path, r.headers["authorization"]) for r in requests] == [
        ("GET", "/me", "Bearer test-access-token")]


async def test_microsoft_email_from_the_id_token_when_configured():
    user, _ = await microsoft_user("any_verified", **EMAIL_CLAIMS)
    assert (user.id, user.email) == (ME["id"], "adele@primary.example")


async def test_microsoft_id_token_failing_its_time_checks_gives_no_email():
    now = sample_id_token_claims()["iat"]
    user, _ = await microsoft_user("email", **EMAIL_CLAIMS, iat=now + 86400)
    assert (user.id, user.email) == (ME["id"], "")


@pytest.mark.parametrize(("setting", "claims", "email"), [
    ("verified_primary_email", {}, "adele@primary.example"),
    ("email_and_xms_edov", {}, "adele@owned.example"),
    ("email_and_xms_edov", {"xms_edov": "false"}, ""),
    ("email_and_xms_edov", {"xms_edov": "1"}, "adele@owned.example"),
    ("any_verified", {"verified_primary_email": ["a@b.example"]}, "adele@owned.example"),
    ("any_verified", {"verified_primary_email": None, "xms_edov": None}, ""),
    ("email", {"xms_edov": False}, "adele@owned.example"),
], ids=["primary", "edov", "edov-false", "edov-text", "any-list", "any-none", "email"])
def test_microsoft_email_claim_rules(setting, claims, email):
    assert email_from_claims({**EMAIL_CLAIMS, **claims}, setting) == email


@pytest.mark.parametrize(("setting", "scopes"), [
    (None, ("User.Read",)), ("", ("User.Read",)), ("email", ("User.Read", "openid"))],
    ids=["none", "empty", "set"])
def test_microsoft_asks_openid_only_for_an_id_token_email(setting, scopes):
    extra = {} if setting is None else {"idTokenEmailClaim": setting}
    assert configured(Microsoft, extra=extra).scopes == scopes


async def test_microsoft_error_answer_fails():
    answer = (401, {"error": {"code": "InvalidAuthenticationToken"}})
    with RecordedApi({"GET /me": answer}) as api, pytest.raises(ProviderError, match="401"):
        await fetch(Microsoft, user_info_url=api.url("/me"))
