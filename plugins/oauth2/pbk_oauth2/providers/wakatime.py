"""WakaTime: ``/api/v1/users/current`` (PocketBase's ``tools/auth/wakatime.go``)."""

from typing import Any

from pbk_sdk.oauth2 import AuthUser, OAuth2Provider, OAuth2Token

from ._common import flag, text
from ._logos import monogram


class WakaTime(OAuth2Provider):
    display_name = "WakaTime"
    logo = monogram("W", "#000")
    order = 26
    pkce = True
    scopes = ("email",)
    auth_url = "https://wakatime.com/oauth/authorize"
    token_url = "https://wakatime.com/oauth/token"
    user_info_url = "https://wakatime.com/api/v1/users/current"

    def map_user(self, raw: dict[str, Any], token: OAuth2Token) -> AuthUser:
        """``email`` only when ``is_email_confirmed``; the photo only when public."""
        email = text(raw, "data.email") if flag(raw, "data.is_email_confirmed") else ""
        photo = text(raw, "data.photo") if flag(raw, "data.photo_public") else ""
        return self.auth_user(raw, token, id=text(raw, "data.id"),
                              name=text(raw, "data.display_name"),
                              username=text(raw, "data.username"), email=email, avatar_url=photo)
