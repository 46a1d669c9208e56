"""The generic OpenID Connect provider, registered three times (``oidc``, ``oidc2``, ``oidc3``)
so a collection can use three identity providers (PocketBase's ``tools/auth/oidc.go``).

With a ``userInfoURL`` the user comes from it; without one, from the ``id_token``, checked for
the client id as audience, its times, ``extra.issuers`` (when set) and its signature against
``extra.jwksURL`` (when set).
"""

from typing import Any

from pbk_sdk.oauth2 import AuthUser, OAuth2Provider, OAuth2Token, truthy

from ._logos import monogram


def string_list(value: Any) -> list[str]:
    """Go's ``cast.ToStringSlice``: a list's items as text, a string split on white space."""
    if isinstance(value, str):
        return value.split()
    if isinstance(value, list | tuple):
        return [str(item) for item in value]
    return []


class OIDC(OAuth2Provider):
    display_name = "OIDC"
    logo = monogram("ID", "#ff6200")
    order = 99
    pkce = True
    scopes = ("openid", "email", "profile")

    async def fetch_raw_user(self, token: OAuth2Token) -> dict[str, Any]:
        if self.user_info_url:
            return await super().fetch_raw_user(token)
        return await self.id_token_claims(token, jwks_url=str(self.extra.get("jwksURL") or ""),
                                          issuers=string_list(self.extra.get("issuers")))

    def map_user(self, raw: dict[str, Any], token: OAuth2Token) -> AuthUser:
        """The standard claims; ``email`` only when ``email_verified`` is true (bool or text)."""
        return self.auth_user(raw, token, id=str(raw.get("sub") or ""),
                              name=str(raw.get("name") or ""),
                              username=str(raw.get("preferred_username") or ""),
                              avatar_url=str(raw.get("picture") or ""),
                              email=str(raw.get("email") or "") if truthy(raw.get("email_verified")) else "")
