"""Notion: ``/v1/users/me``, the bot of the integration, whose owner is the user (PocketBase's
``tools/auth/notion.go``). Notion wants its API version in a header on every call."""

from typing import Any

from pbk_sdk.oauth2 import AuthUser, OAuth2Provider, OAuth2Token

from ._common import get_user_with_headers, text
from ._logos import monogram

#: The ``Notion-Version`` whose answer shape the mapping reads.
API_VERSION = "2022-06-28"


class Notion(OAuth2Provider):
    display_name = "Notion"
    logo = monogram("N", "#000")
    order = 17
    pkce = True
    auth_url = "https://api.notion.com/v1/oauth/authorize"
    token_url = "https://api.notion.com/v1/oauth/token"
    user_info_url = "https://api.notion.com/v1/users/me"

    async def fetch_raw_user(self, token: OAuth2Token) -> dict[str, Any]:
        return await get_user_with_headers(self, token, {"Notion-Version": API_VERSION})

    def map_user(self, raw: dict[str, Any], token: OAuth2Token) -> AuthUser:
        """The bot's owning person; a Notion account's e-mail is its login, so verified."""
        owner = "bot.owner.user"
        return self.auth_user(raw, token, id=text(raw, f"{owner}.id"),
                              name=text(raw, f"{owner}.name"),
                              email=text(raw, f"{owner}.person.email"),
                              avatar_url=text(raw, f"{owner}.avatar_url"))
