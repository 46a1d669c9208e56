"""LiveChat: the accounts API's ``/v2/accounts/me`` (PocketBase's
``tools/auth/livechat.go``). Its scopes are chosen in LiveChat's developer console, so none
are asked here."""

from typing import Any

from pbk_sdk.oauth2 import AuthUser, OAuth2Provider, OAuth2Token

from ._common import flag, text
from ._logos import monogram


class LiveChat(OAuth2Provider):
    display_name = "LiveChat"
    logo = monogram("LC", "#ff5100")
    order = 27
    pkce = True
    auth_url = "https://accounts.livechat.com/"
    token_url = "https://accounts.livechat.com/token"
    user_info_url = "https://accounts.livechat.com/v2/accounts/me"

    def map_user(self, raw: dict[str, Any], token: OAuth2Token) -> AuthUser:
        """``account_id`` is the id; ``email`` only when ``email_verified``."""
        email = text(raw, "email") if flag(raw, "email_verified") else ""
        return self.auth_user(raw, token, id=text(raw, "account_id"), name=text(raw, "name"),
                              email=email, avatar_url=text(raw, "avatar_url"))
