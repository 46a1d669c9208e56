"""X/Twitter's mapping, against a recorded answer of /2/users/me."""

from pbk_oauth2.providers.twitter import Twitter
from providers_testing import fetch_recorded, mapped

#: GET /2/users/me?user.fields=..., as X answers it (values made up, shape recorded).
ME = {"data": {"id": "2244994945", "name": "Ann Lee", "username": "annlee",
               "profile_image_url": "https://pbs.twimg.com/profile_images/1/a_normal.jpg",
               "confirmed_email": "ann@example.com"}}


async def test_twitter_maps_me_and_asks_the_confirmed_email():
    query = Twitter.user_info_url.split("?", 1)[1]
    user, requests = await fetch_recorded(Twitter, {"GET /2/users/me": ME}, f"/2/users/me?{query}")
    assert (user.id, user.name, user.username, user.email) == ("2244994945", "Ann Lee",
                                                               "annlee", "ann@example.com")
    assert user.avatar_url == ME["data"]["profile_image_url"] and user.raw_user == ME
    assert "confirmed_email" in requests[0].path
    assert requests[0].headers["authorization"] == "Bearer test-access-token"


def test_twitter_without_confirmed_email():
    user = mapped(Twitter, {"data": {"id": "1", "username": "a"}})
    assert (user.id, user.email, user.avatar_url) == ("1", "", "")
