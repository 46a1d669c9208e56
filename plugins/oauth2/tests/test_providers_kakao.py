"""Kakao's and VK's mappings, against recorded answers of their user APIs."""

import pytest
from pbk_oauth2.providers.kakao import Kakao
from pbk_oauth2.providers.vk import VK
from pbk_sdk.oauth2 import ProviderError
from pbk_sdk.testing.oauth2 import sample_token
from providers_testing import fetch_recorded, mapped

#: GET /v2/user/me, as Kakao answers it (values made up, shape recorded).
KAKAO_ME = {"id": 123456789, "connected_at": "2022-04-11T01:45:28Z",
            "properties": {"nickname": "ann", "profile_image": "http://k.kakaocdn.net/img.jpg"},
            "kakao_account": {"profile_nickname_needs_agreement": False,
                              "profile": {"nickname": "ann", "is_default_image": False},
                              "has_email": True, "email_needs_agreement": False,
                              "is_email_valid": True, "is_email_verified": True,
                              "email": "ann@example.com"}}
#: GET /method/users.get?fields=photo_max,screen_name&v=5.131, as VK answers it.
VK_USERS = {"response": [{"id": 210700286, "first_name": "Lindsey", "last_name": "Stirling",
                          "screen_name": "lindseystirling", "can_access_closed": True,
                          "photo_max": "https://sun9.userapi.com/a.jpg", "is_closed": False}]}


async def test_kakao_maps_me():
    user, requests = await fetch_recorded(Kakao, {"GET /v2/user/me": KAKAO_ME}, "/v2/user/me")
    assert (user.id, user.name, user.username, user.email) == ("123456789", "", "ann",
                                                               "ann@example.com")
    assert user.avatar_url == "http://k.kakaocdn.net/img.jpg" and user.raw_user == KAKAO_ME
    assert requests[0].headers["authorization"] == "Bearer test-access-token"


@pytest.mark.parametrize("account", [{"is_email_verified": False}, {"is_email_valid": False}],
                         ids=["unverified", "invalid"])
def test_kakao_email_needs_valid_and_verified(account):
    payload = {**KAKAO_ME, "kakao_account": {**KAKAO_ME["kakao_account"], **account}}
    assert mapped(Kakao, payload).email == ""


async def test_vk_maps_users_get_and_takes_the_email_from_the_token():
    token = sample_token(raw={"access_token": "test-access-token", "user_id": 210700286,
                              "email": "lindsey@example.com"})
    user, requests = await fetch_recorded(VK, {"GET /method/users.get": VK_USERS},
                                          "/method/users.get", token)
    assert (user.id, user.name, user.username, user.email) == (
        "210700286", "Lindsey Stirling", "lindseystirling", "lindsey@example.com")
    assert user.avatar_url == "https://sun9.userapi.com/a.jpg" and user.raw_user == VK_USERS
    assert requests[0].headers["authorization"] == "Bearer test-access-token"


def test_vk_without_email_grant_or_last_name():
    entry = {**VK_USERS["response"][0], "last_name": ""}
    user = mapped(VK, {"response": [entry]})
    assert (user.email, user.name) == ("", "Lindsey")


@pytest.mark.parametrize("payload", [{"response": []}, {"error": {"error_code": 5}}],
                         ids=["empty", "error"])
def test_vk_without_a_profile_fails(payload):
    with pytest.raises(ProviderError):
        mapped(VK, payload)
