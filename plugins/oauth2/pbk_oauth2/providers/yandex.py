"""Yandex ID: ``login.yandex.ru/info`` (PocketBase's ``tools/auth/yandex.go``)."""

from typing import Any

from pbk_sdk.oauth2 import AuthUser, OAuth2Provider, OAuth2Token

from ._common import flag, text
from ._logos import monogram

#: Where Yandex serves an avatar by its id, in the 200 px size.
AVATAR_URL = "https://avatars.yandex.net/get-yapic/{}/islands-200"


class Yandex(OAuth2Provider):
    display_name = "Yandex"
    logo = monogram("Я", "#fc3f1d")
    order = 4
    pkce = True
    scopes = ("login:email", "login:avatar", "login:info")
    auth_url = "https://oauth.yandex.com/authorize"
    token_url = "https://oauth.yandex.com/token"
    user_info_url = "https://login.yandex.ru/info"

    def map_user(self, raw: dict[str, Any], token: OAuth2Token) -> AuthUser:
        """``default_email`` is the account's own (Yandex-hosted or confirmed) address, so
        it is taken as verified, as PocketBase does."""
        avatar = AVATAR_URL.format(text(raw, "default_avatar_id"))
        if flag(raw, "is_avatar_empty"):
            avatar = ""
        return self.auth_user(raw, token, id=text(raw, "id"), name=text(raw, "real_name"),
                              username=text(raw, "login"), email=text(raw, "default_email"),
                              avatar_url=avatar)
