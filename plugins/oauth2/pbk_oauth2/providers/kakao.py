"""Kakao: ``/v2/user/me`` (PocketBase's ``tools/auth/kakao.go``)."""

from typing import Any

from pbk_sdk.oauth2 import AuthUser, OAuth2Provider, OAuth2Token

from ._common import flag, number, text
from ._logos import monogram


class Kakao(OAuth2Provider):
    display_name = "Kakao"
    logo = monogram("K", "#fee500", "#191919")
    order = 14
    pkce = True
    scopes = ("account_email", "profile_nickname", "profile_image")
    auth_url = "https://kauth.kakao.com/oauth/authorize"
    token_url = "https://kauth.kakao.com/oauth/token"
    user_info_url = "https://kapi.kakao.com/v2/user/me"

    def map_user(self, raw: dict[str, Any], token: OAuth2Token) -> AuthUser:
        """The nickname is the username (no name); ``email`` only when Kakao says it is
        both valid and verified."""
        trusted = (flag(raw, "kakao_account.is_email_valid")
                   and flag(raw, "kakao_account.is_email_verified"))
        return self.auth_user(raw, token, id=str(number(raw, "id")),
                              username=text(raw, "properties.nickname"),
                              avatar_url=text(raw, "properties.profile_image"),
                              email=text(raw, "kakao_account.email") if trusted else "")
