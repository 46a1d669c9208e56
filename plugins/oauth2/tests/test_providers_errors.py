"""A user API answering an error status fails the sign-in (PocketBase's
``sendRawUserInfoRequest``), for the providers whose own test files check only the mapping."""

import pytest
from pbk_oauth2.providers.box import Box
from pbk_oauth2.providers.discord import Discord
from pbk_oauth2.providers.facebook import Facebook
from pbk_oauth2.providers.gitlab import GitLab
from pbk_oauth2.providers.instagram import Instagram
from pbk_oauth2.providers.kakao import Kakao
from pbk_oauth2.providers.lark import Lark
from pbk_oauth2.providers.livechat import LiveChat
from pbk_oauth2.providers.mailcow import Mailcow
from pbk_oauth2.providers.patreon import Patreon
from pbk_oauth2.providers.planningcenter import PlanningCenter
from pbk_oauth2.providers.spotify import Spotify
from pbk_oauth2.providers.strava import Strava
from pbk_oauth2.providers.twitter import Twitter
from pbk_oauth2.providers.vk import VK
from pbk_oauth2.providers.wakatime import WakaTime
from pbk_oauth2.providers.yandex import Yandex
from pbk_sdk.oauth2 import ProviderError
from providers_testing import fetch_recorded

PROVIDERS = (Box, Discord, Facebook, GitLab, Instagram, Kakao, Lark, LiveChat, Mailcow, Patreon,
             PlanningCenter, Spotify, Strava, Twitter, VK, WakaTime, Yandex)


@pytest.mark.parametrize("provider_class", PROVIDERS, ids=[p.__name__ for p in PROVIDERS])
async def test_user_api_error_status_fails(provider_class):
    answer = (401, {"error": "invalid_token", "message": "The access token is invalid"})
    with pytest.raises(ProviderError, match="401"):
        await fetch_recorded(provider_class, {"GET /me": answer}, "/me")


@pytest.mark.parametrize("answer", [["not", "an", "object"], "text"], ids=["list", "string"])
async def test_user_api_answer_that_is_no_object_fails(answer):
    with pytest.raises(ProviderError):
        await fetch_recorded(Spotify, {"GET /me": answer}, "/me")
