"""Gitee's mapping, against recorded answers of /api/v5/user and /api/v5/emails."""

import pytest
from pbk_oauth2.providers.gitee import Gitee
from pbk_sdk.oauth2 import ProviderError
from pbk_sdk.testing.oauth2 import RecordedApi
from providers_testing import fetch

#: GET /api/v5/user, as Gitee answers it (values made up, shape recorded).
USER = {"id": 8134829, "login": "ann-lee", "name": "Ann Lee",
        "avatar_url": "https://foruda.gitee.com/avatar/1677012345/8134829_ann-lee.png",
        "url": "https://gitee.com/api/v5/users/ann-lee", "html_url": "https://gitee.com/ann-lee",
        "bio": "", "blog": None, "public_repos": 3, "email": None,
        "created_at": "2020-09-01T10:21:33+08:00"}
#: GET /api/v5/emails.
EMAILS = [{"email": "ann@example.com", "state": "confirmed", "scope": ["committed", "primary"]},
          {"email": "ann@users.noreply.gitee.com", "state": "confirmed", "scope": ["committed"]}]


async def gitee_user(user=USER, emails=EMAILS):
    with RecordedApi({"GET /api/v5/user": user, "GET /api/v5/emails": emails}) as api:
        class LocalGitee(Gitee):
            emails_url = api.url("/api/v5/emails")

        found = await fetch(LocalGitee, user_info_url=api.url("/api/v5/user"))
    return found, api.requests


async def test_gitee_maps_the_user_and_its_confirmed_primary_email():
    user, requests = await gitee_user()
    assert (user.id, user.name, user.username, user.email) == ("8134829", "Ann Lee", "ann-lee",
                                                               "ann@example.com")
    assert user.avatar_url == USER["avatar_url"] and user.raw_user == USER
    assert [r.path for r in requests] == ["/api/v5/user", "/api/v5/emails"]
    assert {r.headers["authorization"] for r in requests} == {"Bearer test-access-token"}


async def test_gitee_profile_email_needs_no_second_call():
    user, requests = await gitee_user(user={**USER, "email": "public@example.com"})
    assert user.email == "public@example.com" and len(requests) == 1


@pytest.mark.parametrize("emails", [
    [{"email": "ann@example.com", "state": "unconfirmed", "scope": ["primary"]}],
    [{"email": "not-an-address", "state": "confirmed", "scope": ["primary"]}],
    (403, {"message": "403 Forbidden"}),
    (500, {"message": "not a list"}),
], ids=["unconfirmed", "malformed", "403", "500"])
async def test_gitee_gives_no_email_it_cannot_vouch_for(emails):
    user, _ = await gitee_user(user={**USER, "email": "not-an-address"}, emails=emails)
    assert (user.id, user.email) == ("8134829", "")


async def test_gitee_error_answer_fails():
    with pytest.raises(ProviderError):
        await gitee_user(user=(401, {"message": "401 Unauthorized"}))
