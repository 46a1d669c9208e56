"""Gitea and Forgejo: ``/api/v1/user``, then its ``/emails`` for a verified primary address
(PocketBase's ``tools/auth/gitea.go``); point the URLs at your instance."""

from typing import Any

from pbk_sdk.oauth2 import AuthUser, OAuth2Provider, OAuth2Token, ProviderError

from ._common import NO_EMAIL_ACCESS, flag, number, optional_json, text
from ._logos import monogram


class Gitea(OAuth2Provider):
    display_name = "Gitea/Forgejo"
    logo = monogram("Gt", "#609926")
    order = 11
    pkce = True
    scopes = ("read:user", "user:email")
    auth_url = "https://gitea.com/login/oauth/authorize"
    token_url = "https://gitea.com/login/oauth/access_token"
    user_info_url = "https://gitea.com/api/v1/user"

    async def fetch_auth_user(self, token: OAuth2Token) -> AuthUser:
        user = self.map_user(await self.fetch_raw_user(token), token)
        user.email = await self.verified_primary_email(token)
        return user

    def map_user(self, raw: dict[str, Any], token: OAuth2Token) -> AuthUser:
        """Only an ``active`` account signs in; the e-mail comes from the e-mail list."""
        if not flag(raw, "active"):
            raise ProviderError("the Gitea user account is not active")
        return self.auth_user(raw, token, id=str(number(raw, "id")), name=text(raw, "full_name"),
                              username=text(raw, "login"), avatar_url=text(raw, "avatar_url"))

    async def verified_primary_email(self, token: OAuth2Token) -> str:
        emails = await optional_json(self, token, self.user_info_url + "/emails", NO_EMAIL_ACCESS)
        if emails is None:
            return ""
        if not isinstance(emails, list):
            raise ProviderError("failed to fetch primary email: the e-mail list is not a list")
        for entry in emails:
            if flag(entry, "verified") and flag(entry, "primary"):
                return text(entry, "email")
        return ""
