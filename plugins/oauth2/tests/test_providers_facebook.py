"""Facebook's and Instagram's mappings, against recorded Graph API answers."""

from pbk_oauth2.providers.facebook import Facebook
from pbk_oauth2.providers.instagram import Instagram
from pbk_sdk.testing.oauth2 import sample_token
from providers_testing import fetch_recorded, mapped

#: GET /me?fields=name,email,picture.type(large), as Graph answers it (values made up).
FACEBOOK_ME = {"name": "Ann Lee", "email": "ann@example.com", "id": "10224912361258412",
               "picture": {"data": {"height": 200, "is_silhouette": False, "width": 200,
                                    "url": "https://platform-lookaside.fbsbx.com/platform/pic"}}}
#: GET /me?fields=id,username,...,media_count from Instagram's Graph API (values made up).
INSTAGRAM_ME = {"id": "7590637837631254", "username": "ann.lee", "account_type": "BUSINESS",
                "user_id": "17841405822304914", "name": "Ann Lee",
                "profile_picture_url": "https://scontent.cdninstagram.com/v/t51/pic.jpg",
                "followers_count": 12, "follows_count": 30, "media_count": 4}


async def test_facebook_maps_me_and_asks_its_fields():
    user, requests = await fetch_recorded(Facebook, {"GET /me": FACEBOOK_ME},
                                          "/me?fields=name,email,picture.type(large)")
    assert (user.id, user.name, user.username, user.email) == ("10224912361258412", "Ann Lee",
                                                               "", "ann@example.com")
    assert user.avatar_url == FACEBOOK_ME["picture"]["data"]["url"]
    assert requests[0].path == "/me?fields=name,email,picture.type(large)"
    assert "fields=name,email,picture.type(large)" in Facebook.user_info_url


def test_facebook_without_email_or_picture():
    user = mapped(Facebook, {"id": "1", "name": "Ann"})
    assert (user.email, user.avatar_url) == ("", "")


async def test_instagram_maps_me_and_keeps_the_granted_permissions():
    token = sample_token(raw={"permissions": "instagram_business_basic"})
    user, _ = await fetch_recorded(Instagram, {"GET /me": INSTAGRAM_ME}, "/me", token)
    assert (user.id, user.name, user.username, user.email) == ("17841405822304914", "Ann Lee",
                                                               "ann.lee", "")
    assert user.avatar_url == INSTAGRAM_ME["profile_picture_url"]
    assert user.raw_user == {**INSTAGRAM_ME, "permissions": "instagram_business_basic"}


def test_instagram_keeps_permissions_the_user_api_sent():
    raw = {**INSTAGRAM_ME, "permissions": ["a"]}
    assert mapped(Instagram, raw, raw={"permissions": "b"}).raw_user["permissions"] == ["a"]
    assert "permissions" not in mapped(Instagram, INSTAGRAM_ME).raw_user
