"""Bitbucket Cloud: ``/2.0/user``, then ``/2.0/user/emails`` for a confirmed primary address
(PocketBase's ``tools/auth/bitbucket.go``). Bitbucket refuses PKCE parameters."""

from typing import Any

from pbk_sdk.oauth2 import AuthUser, OAuth2Provider, OAuth2Token, ProviderError

from ._common import flag, objects, optional_json, text
from ._logos import monogram


class Bitbucket(OAuth2Provider):
    display_name = "Bitbucket"
    logo = monogram("BB", "#0052cc")
    order = 9
    pkce = False
    scopes = ("account",)
    auth_url = "https://bitbucket.org/site/oauth2/authorize"
    token_url = "https://bitbucket.org/site/oauth2/access_token"
    user_info_url = "https://api.bitbucket.org/2.0/user"

    async def fetch_auth_user(self, token: OAuth2Token) -> AuthUser:
        user = self.map_user(await self.fetch_raw_user(token), token)
        user.email = await self.confirmed_primary_email(token)
        return user

    def map_user(self, raw: dict[str, Any], token: OAuth2Token) -> AuthUser:
        """Only an ``active`` account signs in; the e-mail comes from the e-mail list."""
        if text(raw, "account_status") != "active":
            raise ProviderError("the Bitbucket user is not active")
        return self.auth_user(raw, token, id=text(raw, "uuid"), name=text(raw, "display_name"),
                              username=text(raw, "username"),
                              avatar_url=text(raw, "links.avatar.href"))

    async def confirmed_primary_email(self, token: OAuth2Token) -> str:
        """The primary, confirmed address; ``""`` when there is none or the list cannot be
        read (any error status: the ``email`` scope was not granted)."""
        page = await optional_json(self, token, self.user_info_url + "/emails", range(400, 600))
        for entry in objects(page, "values"):
            if flag(entry, "is_primary") and flag(entry, "is_confirmed"):
                return text(entry, "email")
        return ""
