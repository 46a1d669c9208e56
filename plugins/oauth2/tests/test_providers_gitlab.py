"""GitLab's mapping, against a recorded answer of /api/v4/user."""

import pytest
from pbk_oauth2.providers.gitlab import GitLab
from pbk_sdk.oauth2 import ProviderError
from providers_testing import fetch_recorded, mapped

#: GET /api/v4/user, as GitLab answers it (values made up, shape recorded).
USER = {"id": 1, "username": "john_smith", "name": "John Smith", "state": "active",
        "locked": False, "avatar_url": "https://gitlab.example/uploads/user/avatar/1/cat.jpg",
        "web_url": "https://gitlab.example/john_smith", "created_at": "2012-05-23T08:00:58Z",
        "email": "john@example.com", "confirmed_at": "2012-05-23T09:05:22.123Z",
        "two_factor_enabled": True, "bot": False}


async def test_gitlab_maps_the_user():
    user, requests = await fetch_recorded(GitLab, {"GET /user": USER}, "/user")
    assert (user.id, user.name, user.username, user.email) == ("1", "John Smith", "john_smith",
                                                               "john@example.com")
    assert user.avatar_url == USER["avatar_url"] and user.raw_user == USER
    assert requests[0].headers["authorization"] == "Bearer test-access-token"


@pytest.mark.parametrize("confirmed_at", [None, "", "2012-05-23", "0001-01-01T00:00:00Z"],
                         ids=["null", "empty", "date", "zero"])
def test_gitlab_gives_no_email_before_confirmation(confirmed_at):
    assert mapped(GitLab, {**USER, "confirmed_at": confirmed_at}).email == ""


def test_gitlab_refuses_a_user_id_that_is_not_a_number():
    with pytest.raises(ProviderError):
        mapped(GitLab, {**USER, "id": "1"})
