"""Trakt: ``/users/settings`` (PocketBase's ``tools/auth/trakt.go``). Trakt's API wants the
client id and its API version in headers on every call."""

from typing import Any

from pbk_sdk.oauth2 import AuthUser, OAuth2Provider, OAuth2Token

from ._common import get_user_with_headers, text
from ._logos import monogram


class Trakt(OAuth2Provider):
    display_name = "Trakt"
    logo = monogram("T", "#ed1c24")
    order = 22
    pkce = True
    auth_url = "https://trakt.tv/oauth/authorize"
    token_url = "https://api.trakt.tv/oauth/token"
    user_info_url = "https://api.trakt.tv/users/settings"

    async def fetch_raw_user(self, token: OAuth2Token) -> dict[str, Any]:
        headers = {"Content-Type": "application/json", "trakt-api-key": self.client_id,
                   "trakt-api-version": "2"}
        return await get_user_with_headers(self, token, headers)

    def map_user(self, raw: dict[str, Any], token: OAuth2Token) -> AuthUser:
        """The user's ``ids.uuid`` is the id; Trakt shares no e-mail."""
        return self.auth_user(raw, token, id=text(raw, "user.ids.uuid"),
                              name=text(raw, "user.name"), username=text(raw, "user.username"),
                              avatar_url=text(raw, "user.images.avatar.full"))
