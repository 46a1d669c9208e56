"""Linear: the GraphQL ``viewer`` (PocketBase's ``tools/auth/linear.go``). Linear refuses
PKCE parameters."""

from typing import Any

from pbk_sdk.oauth2 import AuthUser, OAuth2Provider, OAuth2Token, ProviderError

from ._common import flag, graphql, text
from ._logos import monogram

#: The fields of the signed-in user the mapping reads.
VIEWER_QUERY = "query Me { viewer { id displayName name email avatarUrl active } }"


class Linear(OAuth2Provider):
    display_name = "Linear"
    logo = monogram("L", "#5e6ad2")
    order = 16
    pkce = False
    scopes = ("read",)
    auth_url = "https://linear.app/oauth/authorize"
    token_url = "https://api.linear.app/oauth/token"
    user_info_url = "https://api.linear.app/graphql"

    async def fetch_raw_user(self, token: OAuth2Token) -> dict[str, Any]:
        return await graphql(self, token, VIEWER_QUERY)

    def map_user(self, raw: dict[str, Any], token: OAuth2Token) -> AuthUser:
        """Only an ``active`` account signs in; Linear's e-mail is the login, so verified;
        the display name is the username."""
        if not flag(raw, "data.viewer.active"):
            raise ProviderError("the Linear user account is not active")
        return self.auth_user(raw, token, id=text(raw, "data.viewer.id"),
                              name=text(raw, "data.viewer.name"),
                              username=text(raw, "data.viewer.displayName"),
                              email=text(raw, "data.viewer.email"),
                              avatar_url=text(raw, "data.viewer.avatarUrl"))
