"""X (Twitter): API v2's ``/2/users/me`` with the confirmed e-mail (PocketBase's
``tools/auth/twitter.go``)."""

from typing import Any

from pbk_sdk.oauth2 import AuthUser, OAuth2Provider, OAuth2Token

from ._common import text
from ._logos import monogram


class Twitter(OAuth2Provider):
    display_name = "X/Twitter"
    logo = monogram("X", "#000")
    order = 13
    pkce = True
    # ``tweet.read`` is not used, but X answers /2/users/me with 403 without it.
    scopes = ("users.read", "users.email", "tweet.read")
    auth_url = "https://x.com/i/oauth2/authorize"
    token_url = "https://api.x.com/2/oauth2/token"
    user_info_url = ("https://api.x.com/2/users/me"
                     "?user.fields=id,name,username,profile_image_url,confirmed_email")

    def map_user(self, raw: dict[str, Any], token: OAuth2Token) -> AuthUser:
        """``confirmed_email`` is only ever a confirmed address."""
        return self.auth_user(raw, token, id=text(raw, "data.id"), name=text(raw, "data.name"),
                              username=text(raw, "data.username"),
                              email=text(raw, "data.confirmed_email"),
                              avatar_url=text(raw, "data.profile_image_url"))
