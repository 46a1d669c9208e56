"""GitHub: the user API, then the e-mail list for a verified primary address (PocketBase's
``tools/auth/github.go`` asks it every time, as the user API may show an unverified one)."""

from typing import Any

from pbk_sdk.oauth2 import AuthUser, OAuth2Provider, OAuth2Token, ProviderError

from ._logos import monogram

#: Answers to the e-mail list that mean "not allowed to see e-mails" (no ``user:email``
#: scope): the user signs in without an e-mail, as in PocketBase.
NO_EMAIL_ACCESS = (401, 403, 404)


class GitHub(OAuth2Provider):
    display_name = "GitHub"
    logo = monogram("GH", "#161614")
    order = 7
    # NOTE: GitHub ignores PKCE parameters, so sending them is harmless (PocketBase does too).
    pkce = True
    scopes = ("read:user", "user:email")
    auth_url = "https://github.com/login/oauth/authorize"
    token_url = "https://github.com/login/oauth/access_token"
    user_info_url = "https://api.github.com/user"

    async def fetch_auth_user(self, token: OAuth2Token) -> AuthUser:
        user = self.map_user(await self.fetch_raw_user(token), token)
        user.email = await self.verified_primary_email(token)
        return user

    def map_user(self, raw: dict[str, Any], token: OAuth2Token) -> AuthUser:
        """The user API's fields; the e-mail comes from ``verified_primary_email``."""
        user_id = raw.get("id", 0)
        if isinstance(user_id, bool) or not isinstance(user_id, int):
            raise ProviderError(f"GitHub user id is not a number: {user_id!r}")
        return self.auth_user(raw, token, id=str(user_id), name=str(raw.get("name") or ""),
                              username=str(raw.get("login") or ""),
                              avatar_url=str(raw.get("avatar_url") or ""))

    async def verified_primary_email(self, token: OAuth2Token) -> str:
        """The primary address if verified, else ``""`` (also when e-mails are not visible)."""
        response = await self.request(token, "GET", self.user_info_url + "/emails")
        if response.status_code in NO_EMAIL_ACCESS:
            return ""
        try:
            emails = response.json()
        except ValueError as error:
            raise ProviderError(f"GitHub e-mail list is not JSON: {error}") from error
        if not isinstance(emails, list):
            raise ProviderError("GitHub e-mail list is not a list")
        for entry in emails:
            if isinstance(entry, dict) and entry.get("verified") is True and entry.get("primary") is True:
                return str(entry.get("email") or "")
        return ""
