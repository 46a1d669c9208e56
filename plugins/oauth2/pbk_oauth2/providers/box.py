"""Box: ``/2.0/users/me`` (PocketBase's ``tools/auth/box.go``)."""

from typing import Any

from pbk_sdk.oauth2 import AuthUser, OAuth2Provider, OAuth2Token, ProviderError

from ._common import text
from ._logos import monogram


class Box(OAuth2Provider):
    display_name = "Box"
    logo = monogram("box", "#0061d5")
    order = 20
    pkce = True
    scopes = ("root_readonly",)
    auth_url = "https://account.box.com/api/oauth2/authorize"
    token_url = "https://api.box.com/oauth2/token"
    user_info_url = "https://api.box.com/2.0/users/me"

    def map_user(self, raw: dict[str, Any], token: OAuth2Token) -> AuthUser:
        """Only an ``active`` account signs in; its ``login`` is the e-mail, verified (Box
        lets no unverified address authorize an app)."""
        status = text(raw, "status")
        if status != "active":
            raise ProviderError(f"the Box user account is not active (status {status!r})")
        return self.auth_user(raw, token, id=text(raw, "id"), name=text(raw, "name"),
                              email=text(raw, "login"), avatar_url=text(raw, "avatar_url"))
