"""monday.com: the GraphQL ``me`` (PocketBase's ``tools/auth/monday.go``)."""

from typing import Any

from pbk_sdk.oauth2 import AuthUser, OAuth2Provider, OAuth2Token, ProviderError

from ._common import flag, graphql, text
from ._logos import monogram

#: The fields of the signed-in user the mapping reads.
ME_QUERY = "query { me { id enabled name email is_verified photo_small } }"


class Monday(OAuth2Provider):
    display_name = "monday.com"
    logo = monogram("m", "#ff3d57")
    order = 18
    pkce = True
    scopes = ("me:read",)
    auth_url = "https://auth.monday.com/oauth2/authorize"
    token_url = "https://auth.monday.com/oauth2/token"
    user_info_url = "https://api.monday.com/v2"

    async def fetch_raw_user(self, token: OAuth2Token) -> dict[str, Any]:
        return await graphql(self, token, ME_QUERY)

    def map_user(self, raw: dict[str, Any], token: OAuth2Token) -> AuthUser:
        """Only an ``enabled`` account signs in; ``email`` only when ``is_verified``."""
        if not flag(raw, "data.me.enabled"):
            raise ProviderError("the monday.com user account is not enabled")
        email = text(raw, "data.me.email") if flag(raw, "data.me.is_verified") else ""
        return self.auth_user(raw, token, id=text(raw, "data.me.id"),
                              name=text(raw, "data.me.name"), email=email,
                              avatar_url=text(raw, "data.me.photo_small"))
