"""mailcow: a self-hosted mail server's OAuth2 profile (PocketBase's
``tools/auth/mailcow.go``). There are no default URLs: set the server's
``/oauth/authorize``, ``/oauth/token`` and ``/oauth/profile``."""

from typing import Any

from pbk_sdk.oauth2 import AuthUser, OAuth2Provider, OAuth2Token, ProviderError

from ._common import number, text
from ._logos import monogram


class Mailcow(OAuth2Provider):
    display_name = "mailcow"
    logo = monogram("mc", "#f9e82d", "#3d5263")
    order = 28
    pkce = True
    scopes = ("profile",)

    def map_user(self, raw: dict[str, Any], token: OAuth2Token) -> AuthUser:
        """Only an ``active`` (``1``) mailbox signs in; its address is the e-mail (the server
        owns it) and the part before ``@`` of the username is the username."""
        if number(raw, "active") != 1:
            raise ProviderError("the mailcow user is not active")
        return self.auth_user(raw, token, id=text(raw, "id"), name=text(raw, "full_name"),
                              username=text(raw, "username").split("@", 1)[0],
                              email=text(raw, "email"))
