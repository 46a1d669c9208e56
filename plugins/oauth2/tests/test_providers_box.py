"""Box's and Spotify's mappings, against recorded answers of their /me APIs."""

import pytest
from pbk_oauth2.providers.box import Box
from pbk_oauth2.providers.spotify import Spotify
from pbk_sdk.oauth2 import ProviderError
from providers_testing import fetch_recorded, mapped

#: GET /2.0/users/me, as Box answers it (values made up, shape recorded).
BOX_ME = {"type": "user", "id": "11446498", "name": "Aaron Levie", "login": "ceo@example.com",
          "created_at": "2012-12-12T10:53:43-08:00", "language": "en", "status": "active",
          "avatar_url": "https://www.box.com/api/avatar/large/181216415"}
#: GET /v1/me, as Spotify answers it.
SPOTIFY_ME = {"display_name": "Ann Lee", "id": "31l7tfh4cbyohvbbq7e7xhqnw4fi",
              "uri": "spotify:user:31l7tfh4cbyohvbbq7e7xhqnw4fi", "type": "user",
              "followers": {"href": None, "total": 3}, "country": "SE", "product": "premium",
              "images": [{"url": "https://i.scdn.co/image/ab67757000003b82", "height": 300,
                          "width": 300},
                         {"url": "https://i.scdn.co/image/ab6775700000ee85", "height": 64,
                          "width": 64}]}


async def test_box_maps_me():
    user, requests = await fetch_recorded(Box, {"GET /2.0/users/me": BOX_ME}, "/2.0/users/me")
    assert (user.id, user.name, user.username, user.email) == ("11446498", "Aaron Levie", "",
                                                               "ceo@example.com")
    assert user.avatar_url == BOX_ME["avatar_url"] and user.raw_user == BOX_ME
    assert requests[0].headers["authorization"] == "Bearer test-access-token"


@pytest.mark.parametrize("status", ["inactive", "cannot_delete_edit_upload", None],
                         ids=["inactive", "restricted", "absent"])
def test_box_refuses_accounts_not_active(status):
    with pytest.raises(ProviderError):
        mapped(Box, {**BOX_ME, "status": status})


async def test_spotify_maps_me_with_its_first_image():
    user, _ = await fetch_recorded(Spotify, {"GET /v1/me": SPOTIFY_ME}, "/v1/me")
    assert (user.id, user.name, user.username, user.email) == (
        "31l7tfh4cbyohvbbq7e7xhqnw4fi", "Ann Lee", "", "")
    assert user.avatar_url == "https://i.scdn.co/image/ab67757000003b82"


def test_spotify_without_images():
    assert mapped(Spotify, {**SPOTIFY_ME, "images": []}).avatar_url == ""
