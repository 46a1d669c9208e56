"""Patreon: API v2's ``/identity`` with the user's fields (PocketBase's
``tools/auth/patreon.go``)."""

from typing import Any

from pbk_sdk.oauth2 import AuthUser, OAuth2Provider, OAuth2Token

from ._common import flag, text
from ._logos import monogram


class Patreon(OAuth2Provider):
    display_name = "Patreon"
    logo = monogram("P", "#ff424d")
    order = 24
    pkce = True
    scopes = ("identity", "identity[email]")
    auth_url = "https://www.patreon.com/oauth2/authorize"
    token_url = "https://www.patreon.com/api/oauth2/token"
    user_info_url = ("https://www.patreon.com/api/oauth2/v2/identity"
                     "?fields%5Buser%5D=full_name,email,vanity,image_url,is_email_verified")

    def map_user(self, raw: dict[str, Any], token: OAuth2Token) -> AuthUser:
        """The JSON:API resource's attributes; ``email`` only when ``is_email_verified``;
        the vanity name is the username."""
        verified = flag(raw, "data.attributes.is_email_verified")
        return self.auth_user(raw, token, id=text(raw, "data.id"),
                              name=text(raw, "data.attributes.full_name"),
                              username=text(raw, "data.attributes.vanity"),
                              avatar_url=text(raw, "data.attributes.image_url"),
                              email=text(raw, "data.attributes.email") if verified else "")
