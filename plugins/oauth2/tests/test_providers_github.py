"""GitHub's mapping, against recorded answers of its user API and e-mail list."""

import pytest
from pbk_oauth2.providers.github import GitHub
from pbk_sdk.oauth2 import ProviderError
from pbk_sdk.testing.oauth2 import RecordedApi, fetch_user

#: GET /user, as GitHub answers it (values made up, shape recorded).
USER = {"login": "octo-ann", "id": 583231, "node_id": "MDQ6VXNlcjU4MzIzMQ==",
        "avatar_url": "https://avatars.githubusercontent.com/u/583231?v=4", "type": "User",
        "name": "Ann Octo", "company": None, "email": "public@example.com",
        "created_at": "2011-01-25T18:44:36Z"}
EMAILS = [{"email": "old@example.com", "primary": False, "verified": True, "visibility": None},
          {"email": "ann@example.com", "primary": True, "verified": True, "visibility": "private"}]


async def github_user(emails_answer):
    with RecordedApi({"GET /user": USER, "GET /user/emails": emails_answer}) as api:
        user = await fetch_user(GitHub, api, user_info_url=api.url("/user"))
    return user, api.requests


async def test_github_maps_the_user_and_its_verified_primary_email():
    user, requests = await github_user(EMAILS)
    assert (user.id, user.name, user.username, user.email) == ("583231", "Ann Octo", "octo-ann",
                                                               "ann@example.com")
    assert user.avatar_url == USER["avatar_url"] and user.raw_user == USER
    assert (user.access_token, user.refresh_token) == ("test-access-token", "test-refresh-token")
    assert [r.path for r in requests] == ["/user", "/user/emails"]
    assert {r.headers["authorization"] for r in requests} == {"Bearer test-access-token"}


@pytest.mark.parametrize("answer", [
    [{"email": "ann@example.com", "primary": True, "verified": False}],
    [{"email": "ann@example.com", "primary": False, "verified": True}],
    (403, {"message": "Resource not accessible by integration"}),
    (404, {"message": "Not Found"}),
], ids=["unverified", "not-primary", "403", "404"])
async def test_github_gives_no_email_it_cannot_vouch_for(answer):
    user, _ = await github_user(answer)
    assert user.email == "" and user.id == "583231"


async def test_github_failing_email_list_fails_the_sign_in():
    with pytest.raises(ProviderError):
        await github_user((500, {"message": "Server Error"}))
