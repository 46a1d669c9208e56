"""Patreon's, Strava's, WakaTime's, LiveChat's, mailcow's, Planning Center's and Lark's
mappings, each against a recorded answer of its user API (values made up, shapes recorded)."""

import pytest
from pbk_oauth2.providers.lark import Lark
from pbk_oauth2.providers.livechat import LiveChat
from pbk_oauth2.providers.mailcow import Mailcow
from pbk_oauth2.providers.patreon import Patreon
from pbk_oauth2.providers.planningcenter import PlanningCenter
from pbk_oauth2.providers.strava import Strava
from pbk_oauth2.providers.wakatime import WakaTime
from pbk_sdk.oauth2 import ProviderError
from providers_testing import fetch_recorded, mapped

#: GET /api/oauth2/v2/identity?fields[user]=... (JSON:API).
PATREON = {"data": {"type": "user", "id": "12345678",
                    "attributes": {"full_name": "Ann Lee", "email": "ann@example.com",
                                   "vanity": "annlee", "is_email_verified": True,
                                   "image_url": "https://c8.patreon.com/2/200/12345678"}},
           "links": {"self": "https://www.patreon.com/api/oauth2/v2/user/12345678"}}
#: GET /api/v3/athlete.
STRAVA = {"id": 1234567890987654321, "username": "marianne_t", "resource_state": 3,
          "firstname": "Marianne", "lastname": "Teutenberg", "city": "San Francisco",
          "premium": True, "created_at": "2017-11-14T02:30:05Z",
          "profile_medium": "https://dgalywyr863hv.cloudfront.net/pictures/athletes/m.jpg",
          "profile": "https://dgalywyr863hv.cloudfront.net/pictures/athletes/large.jpg"}
#: GET /api/v1/users/current.
WAKATIME = {"data": {"id": "1f3c1b2e-8a1d-4e55-9a41-1b1e6d0f2c3a", "username": "ann",
                     "display_name": "Ann Lee", "full_name": "Ann Lee",
                     "email": "ann@example.com", "is_email_confirmed": True,
                     "photo": "https://wakatime.com/photo/1f3c1b2e", "photo_public": True,
                     "timezone": "Europe/Stockholm", "plan": "basic"}}
#: GET /v2/accounts/me (LiveChat accounts API).
LIVECHAT = {"account_id": "d24dbd3b-ad32-4d83-a4b6-2a4e4dbd7a6d", "name": "Ann Lee",
            "email": "ann@example.com", "email_verified": True,
            "avatar_url": "https://cdn.livechat-files.com/api/file/avatar.png",
            "roles": [{"role_id": "b9a9ae6b", "product": "livechat", "role": "owner"}]}
#: GET /oauth/profile of a mailcow server.
MAILCOW = {"success": True, "id": "ann@mail.example", "identifier": "ann@mail.example",
           "username": "ann@mail.example", "email": "ann@mail.example", "full_name": "Ann Lee",
           "displayName": "Ann Lee", "created": "2023-01-10 10:00:00", "modified": None,
           "active": 1}
#: GET /people/v2/me (Planning Center, JSON:API).
PLANNING_CENTER = {"data": {"type": "Person", "id": "25253",
                            "attributes": {"name": "Ann Lee", "first_name": "Ann",
                                           "status": "active", "site_administrator": False,
                                           "avatar": "https://avatars.pco.example/a.png"},
                            "links": {"self": "https://api.pco.example/people/v2/people/25253"}},
                   "included": [], "meta": {"parent": {"id": "1", "type": "Organization"}}}
#: GET /open-apis/authen/v1/user_info (Feishu).
LARK = {"code": 0, "msg": "success",
        "data": {"name": "Ann Lee", "en_name": "Ann",
                 "avatar_url": "https://s1-imfile.feishucdn.com/a.jpg",
                 "open_id": "ou_ad2aa89cd0c5d2ba9e5c4b1e4a3a7f3c",
                 "union_id": "on_c7d3ef5a0b5d2e0b8a8a3b1e9d0c7f2e",
                 "tenant_key": "736588c9260f175d"}}


@pytest.mark.parametrize(("provider_class", "answer", "expected"), [
    (Patreon, PATREON, ("12345678", "Ann Lee", "annlee", "ann@example.com",
                        PATREON["data"]["attributes"]["image_url"])),
    (Strava, STRAVA, ("1234567890987654321", "Marianne Teutenberg", "marianne_t", "",
                      STRAVA["profile"])),
    (WakaTime, WAKATIME, (WAKATIME["data"]["id"], "Ann Lee", "ann", "ann@example.com",
                          WAKATIME["data"]["photo"])),
    (LiveChat, LIVECHAT, (LIVECHAT["account_id"], "Ann Lee", "", "ann@example.com",
                          LIVECHAT["avatar_url"])),
    (Mailcow, MAILCOW, ("ann@mail.example", "Ann Lee", "ann", "ann@mail.example", "")),
    (PlanningCenter, PLANNING_CENTER, ("25253", "Ann Lee", "", "",
                                       PLANNING_CENTER["data"]["attributes"]["avatar"])),
    (Lark, LARK, (LARK["data"]["union_id"], "Ann Lee", "", "", LARK["data"]["avatar_url"])),
], ids=["patreon", "strava", "wakatime", "livechat", "mailcow", "planningcenter", "lark"])
async def test_maps_the_recorded_user(provider_class, answer, expected):
    user, requests = await fetch_recorded(provider_class, {"GET /me": answer}, "/me")
    assert (user.id, user.name, user.username, user.email, user.avatar_url) == expected
    assert user.raw_user == answer
    assert requests[0].headers["authorization"] == "Bearer test-access-token"


@pytest.mark.parametrize(("provider_class", "answer", "field"), [
    (Patreon, {"data": {**PATREON["data"], "attributes": {
        **PATREON["data"]["attributes"], "is_email_verified": False}}}, "email"),
    (WakaTime, {"data": {**WAKATIME["data"], "is_email_confirmed": False}}, "email"),
    (WakaTime, {"data": {**WAKATIME["data"], "photo_public": False}}, "avatar_url"),
    (LiveChat, {**LIVECHAT, "email_verified": False}, "email"),
    (Strava, {**STRAVA, "id": 0}, "id"),
], ids=["patreon", "wakatime", "wakatime-photo", "livechat", "strava-id"])
def test_leaves_out_what_the_provider_does_not_vouch_for(provider_class, answer, field):
    assert getattr(mapped(provider_class, answer), field) == ""


def test_strava_keeps_the_space_of_a_missing_last_name():
    assert mapped(Strava, {**STRAVA, "lastname": None}).name == "Marianne "


@pytest.mark.parametrize(("provider_class", "answer"), [
    (Mailcow, {**MAILCOW, "active": 0}),
    (Mailcow, {**MAILCOW, "active": "1"}),
    (PlanningCenter, {"data": {"id": "25253", "attributes": {"status": "inactive"}}}),
], ids=["mailcow-inactive", "mailcow-text", "planningcenter-inactive"])
def test_refuses_inactive_accounts(provider_class, answer):
    with pytest.raises(ProviderError):
        mapped(provider_class, answer)
