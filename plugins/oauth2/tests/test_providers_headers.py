"""Notion's, Trakt's and Twitch's mappings: user APIs that want extra headers."""

import pytest
from pbk_oauth2.providers.notion import Notion
from pbk_oauth2.providers.trakt import Trakt
from pbk_oauth2.providers.twitch import Twitch
from pbk_sdk.oauth2 import ProviderError
from providers_testing import fetch_recorded, mapped

#: GET /v1/users/me, as Notion answers it for an integration's token (values made up).
NOTION_ME = {"object": "user", "id": "16d84278-ab0e-484c-9bdd-b35da3bd8905", "name": "pied piper",
             "avatar_url": None, "type": "bot",
             "bot": {"owner": {"type": "user", "user": {
                 "object": "user", "id": "5389a034-eb5c-47b5-8a9e-f79c99ef166c",
                 "name": "christine makenotion", "avatar_url": "https://s3.notion.so/av.png",
                 "type": "person", "person": {"email": "christine@makenotion.com"}}},
                 "workspace_name": "Notion Team"},
             "request_id": "c3cbb8d5-7a69-4e2f-b0e1-9f2c9b1c2a11"}
#: GET /users/settings, as Trakt answers it.
TRAKT_SETTINGS = {"user": {"username": "sean", "private": False, "name": "Sean Rudford",
                           "vip": True, "vip_ep": False,
                           "ids": {"slug": "sean", "uuid": "3b4f8bbc-3e6b-4bcd-9c0a-5f6d2e1c7a90"},
                           "joined_at": "2010-09-25T17:49:25.000Z", "location": "SF",
                           "images": {"avatar": {"full": "https://walter.trakt.tv/a/sean.jpg"}}},
                  "account": {"timezone": "America/Los_Angeles", "time_24hr": False}}
#: GET /helix/users, as Twitch answers it for the token's user.
TWITCH_USERS = {"data": [{"id": "141981764", "login": "twitchdev", "display_name": "TwitchDev",
                          "type": "", "broadcaster_type": "partner",
                          "description": "Supporting third-party developers",
                          "profile_image_url": "https://static-cdn.jtvnw.net/u/8a6381c7.png",
                          "view_count": 5980557, "email": "not-real@email.com",
                          "created_at": "2016-12-14T20:32:28Z"}]}


async def user_with_headers(provider_class, path, answer):
    user, (request,) = await fetch_recorded(provider_class, {f"GET {path}": answer}, path)
    assert request.headers["authorization"] == "Bearer test-access-token"
    return user, request.headers


async def test_notion_maps_the_bot_owner_and_sends_its_version():
    user, headers = await user_with_headers(Notion, "/v1/users/me", NOTION_ME)
    assert (user.id, user.name, user.username, user.email) == (
        "5389a034-eb5c-47b5-8a9e-f79c99ef166c", "christine makenotion", "",
        "christine@makenotion.com")
    assert user.avatar_url == "https://s3.notion.so/av.png" and user.raw_user == NOTION_ME
    assert headers["notion-version"] == "2022-06-28"


async def test_trakt_maps_settings_and_sends_client_id_and_version():
    user, headers = await user_with_headers(Trakt, "/users/settings", TRAKT_SETTINGS)
    assert (user.id, user.name, user.username, user.email) == (
        "3b4f8bbc-3e6b-4bcd-9c0a-5f6d2e1c7a90", "Sean Rudford", "sean", "")
    assert user.avatar_url == "https://walter.trakt.tv/a/sean.jpg"
    assert (headers["trakt-api-key"], headers["trakt-api-version"]) == ("test-client", "2")
    assert headers["content-type"] == "application/json"


async def test_twitch_maps_the_user_and_sends_the_client_id():
    user, headers = await user_with_headers(Twitch, "/helix/users", TWITCH_USERS)
    assert (user.id, user.name, user.username, user.email) == ("141981764", "TwitchDev",
                                                               "twitchdev", "not-real@email.com")
    assert user.avatar_url == TWITCH_USERS["data"][0]["profile_image_url"]
    assert headers["client-id"] == "test-client"


def test_twitch_without_a_user_fails():
    with pytest.raises(ProviderError):
        mapped(Twitch, {"data": []})


@pytest.mark.parametrize(("provider_class", "path", "answer"), [
    (Notion, "/v1/users/me", (401, {"object": "error", "code": "unauthorized"})),
    (Trakt, "/users/settings", (403, {"error": "invalid api key"})),
    (Twitch, "/helix/users", (401, {"error": "Unauthorized", "status": 401})),
], ids=["notion", "trakt", "twitch"])
async def test_header_providers_error_answer_fails(provider_class, path, answer):
    with pytest.raises(ProviderError):
        await user_with_headers(provider_class, path, answer)
