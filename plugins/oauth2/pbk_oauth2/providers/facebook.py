"""Facebook: the Graph API's ``/me`` with name, e-mail and a large picture (PocketBase's
``tools/auth/facebook.go``)."""

from typing import Any

from pbk_sdk.oauth2 import AuthUser, OAuth2Provider, OAuth2Token

from ._common import text
from ._logos import monogram


class Facebook(OAuth2Provider):
    display_name = "Facebook"
    logo = monogram("f", "#1877f2")
    order = 5
    pkce = True
    scopes = ("email",)
    auth_url = "https://www.facebook.com/v3.2/dialog/oauth"
    token_url = "https://graph.facebook.com/v3.2/oauth/access_token"
    user_info_url = "https://graph.facebook.com/me?fields=name,email,picture.type(large)"

    def map_user(self, raw: dict[str, Any], token: OAuth2Token) -> AuthUser:
        """Facebook only shares a confirmed ``email``, so it is taken as verified."""
        return self.auth_user(raw, token, id=text(raw, "id"), name=text(raw, "name"),
                              email=text(raw, "email"), avatar_url=text(raw, "picture.data.url"))
