"""Planning Center: People's ``/people/v2/me`` (PocketBase's
``tools/auth/planningcenter.go``). Planning Center does not say whether an e-mail is verified,
so none is taken."""

from typing import Any

from pbk_sdk.oauth2 import AuthUser, OAuth2Provider, OAuth2Token, ProviderError

from ._common import text
from ._logos import monogram


class PlanningCenter(OAuth2Provider):
    display_name = "Planning Center"
    logo = monogram("PC", "#2266f7")
    order = 29
    pkce = True
    scopes = ("people",)
    auth_url = "https://api.planningcenteronline.com/oauth/authorize"
    token_url = "https://api.planningcenteronline.com/oauth/token"
    user_info_url = "https://api.planningcenteronline.com/people/v2/me"

    def map_user(self, raw: dict[str, Any], token: OAuth2Token) -> AuthUser:
        """Only an ``active`` person signs in."""
        if text(raw, "data.attributes.status") != "active":
            raise ProviderError("the Planning Center person is not active")
        return self.auth_user(raw, token, id=text(raw, "data.id"),
                              name=text(raw, "data.attributes.name"),
                              avatar_url=text(raw, "data.attributes.avatar"))
