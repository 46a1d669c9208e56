"""Bitbucket's mapping, against recorded answers of /2.0/user and /2.0/user/emails."""

import pytest
from pbk_oauth2.providers.bitbucket import Bitbucket
from pbk_sdk.oauth2 import ProviderError
from providers_testing import fetch_recorded

#: GET /2.0/user, as Bitbucket answers it (values made up, shape recorded).
USER = {"type": "user", "uuid": "{d301aafa-d676-4ee0-88be-962be7417567}",
        "account_id": "557058:c0b72ad0-1cb5-4018-9cdc-0cde8492c443", "nickname": "ann_lee",
        "display_name": "Ann Lee", "username": "ann_lee", "account_status": "active",
        "created_on": "2018-04-19T19:59:53.591176+00:00", "has_2fa_enabled": None,
        "links": {"avatar": {"href": "https://secure.gravatar.com/avatar/a1b2.png"},
                  "html": {"href": "https://bitbucket.org/%7Bd301aafa%7D/"}}}
#: GET /2.0/user/emails (one page).
EMAILS = {"pagelen": 10, "page": 1, "size": 2, "values": [
    {"type": "email", "email": "old@example.com", "is_primary": False, "is_confirmed": True},
    {"type": "email", "email": "ann@example.com", "is_primary": True, "is_confirmed": True}]}


async def bitbucket_user(user=USER, emails=EMAILS):
    routes = {"GET /2.0/user": user, "GET /2.0/user/emails": emails}
    return await fetch_recorded(Bitbucket, routes, "/2.0/user")


async def test_bitbucket_maps_the_user_and_its_confirmed_primary_email():
    user, requests = await bitbucket_user()
    assert (user.id, user.name, user.username, user.email) == (USER["uuid"], "Ann Lee",
                                                               "ann_lee", "ann@example.com")
    assert user.avatar_url == USER["links"]["avatar"]["href"] and user.raw_user == USER
    assert [r.path for r in requests] == ["/2.0/user", "/2.0/user/emails"]
    assert {r.headers["authorization"] for r in requests} == {"Bearer test-access-token"}


@pytest.mark.parametrize("emails", [
    {"values": [{"email": "ann@example.com", "is_primary": True, "is_confirmed": False}]},
    (403, {"type": "error", "error": {"message": "Access denied"}}),
    (500, {"type": "error"}),
], ids=["unconfirmed", "403", "500"])
async def test_bitbucket_gives_no_email_it_cannot_vouch_for(emails):
    user, _ = await bitbucket_user(emails=emails)
    assert (user.id, user.email) == (USER["uuid"], "")


@pytest.mark.parametrize("user", [{**USER, "account_status": "inactive"},
                                  (401, {"type": "error"})], ids=["inactive", "401"])
async def test_bitbucket_refuses_inactive_users_and_error_answers(user):
    with pytest.raises(ProviderError):
        await bitbucket_user(user=user)
