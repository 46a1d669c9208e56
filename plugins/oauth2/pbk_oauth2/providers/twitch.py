"""Twitch: Helix ``/users`` for the token's user (PocketBase's ``tools/auth/twitch.go``).
Helix wants the client id in a ``Client-Id`` header."""

from typing import Any

from pbk_sdk.oauth2 import AuthUser, OAuth2Provider, OAuth2Token, ProviderError

from ._common import first, get_user_with_headers, text
from ._logos import monogram


class Twitch(OAuth2Provider):
    display_name = "Twitch"
    logo = monogram("Tw", "#9146ff")
    order = 23
    pkce = True
    scopes = ("user:read:email",)
    auth_url = "https://id.twitch.tv/oauth2/authorize"
    token_url = "https://id.twitch.tv/oauth2/token"
    user_info_url = "https://api.twitch.tv/helix/users"

    async def fetch_raw_user(self, token: OAuth2Token) -> dict[str, Any]:
        return await get_user_with_headers(self, token, {"Client-Id": self.client_id})

    def map_user(self, raw: dict[str, Any], token: OAuth2Token) -> AuthUser:
        """The one ``data`` entry; Twitch shares only a verified ``email``."""
        entry = first(raw, "data")
        if entry is None:
            raise ProviderError("Twitch answered no user")
        return self.auth_user(raw, token, id=text(entry, "id"), name=text(entry, "display_name"),
                              username=text(entry, "login"), email=text(entry, "email"),
                              avatar_url=text(entry, "profile_image_url"))
