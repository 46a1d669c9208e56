"""Gitea/Forgejo's mapping, against recorded answers of /api/v1/user and /api/v1/user/emails."""

import pytest
from pbk_oauth2.providers.gitea import Gitea
from pbk_sdk.oauth2 import ProviderError
from providers_testing import fetch_recorded

#: GET /api/v1/user, as Gitea answers it (values made up, shape recorded).
USER = {"id": 42, "login": "ann", "login_name": "", "full_name": "Ann Lee",
        "email": "ann@noreply.gitea.example", "avatar_url": "https://gitea.example/avatars/1f3c",
        "language": "en-US", "is_admin": False, "last_login": "2024-11-02T09:14:51Z",
        "created": "2021-03-12T16:40:02Z", "restricted": False, "active": True,
        "prohibit_login": False, "visibility": "public", "username": "ann"}
#: GET /api/v1/user/emails.
EMAILS = [{"email": "ann@example.com", "verified": True, "primary": True, "user_id": 42,
           "username": "ann"},
          {"email": "other@example.com", "verified": True, "primary": False, "user_id": 42,
           "username": "ann"}]


async def gitea_user(user=USER, emails=EMAILS):
    routes = {"GET /api/v1/user": user, "GET /api/v1/user/emails": emails}
    return await fetch_recorded(Gitea, routes, "/api/v1/user")


async def test_gitea_maps_the_user_and_its_verified_primary_email():
    user, requests = await gitea_user()
    assert (user.id, user.name, user.username, user.email) == ("42", "Ann Lee", "ann",
                                                               "ann@example.com")
    assert user.avatar_url == USER["avatar_url"] and user.raw_user == USER
    assert [r.path for r in requests] == ["/api/v1/user", "/api/v1/user/emails"]
    assert {r.headers["authorization"] for r in requests} == {"Bearer test-access-token"}


@pytest.mark.parametrize("emails", [
    [{"email": "ann@example.com", "verified": False, "primary": True}],
    (404, {"message": "not found"}),
], ids=["unverified", "404"])
async def test_gitea_gives_no_email_it_cannot_vouch_for(emails):
    user, _ = await gitea_user(emails=emails)
    assert (user.id, user.email) == ("42", "")


@pytest.mark.parametrize(("user", "emails"), [
    ({**USER, "active": False}, EMAILS),
    (USER, (500, {"message": "internal error"})),
    ((401, {"message": "token is required"}), EMAILS),
], ids=["inactive", "emails-500", "401"])
async def test_gitea_refuses_inactive_users_and_error_answers(user, emails):
    with pytest.raises(ProviderError):
        await gitea_user(user, emails)
