"""Gitee: ``/api/v5/user``, and ``/api/v5/emails`` when the profile shows no usable address
(PocketBase's ``tools/auth/gitee.go``)."""

from typing import Any, ClassVar

from pbk_sdk.formats import is_email
from pbk_sdk.oauth2 import AuthUser, OAuth2Provider, OAuth2Token, ProviderError

from ._common import NO_EMAIL_ACCESS, number, objects, text
from ._logos import monogram


class Gitee(OAuth2Provider):
    display_name = "Gitee"
    logo = monogram("码", "#c71d23")
    order = 10
    pkce = True
    scopes = ("user_info", "emails")
    auth_url = "https://gitee.com/oauth/authorize"
    token_url = "https://gitee.com/oauth/token"
    user_info_url = "https://gitee.com/api/v5/user"
    #: The e-mail list (a fixed address in PocketBase, not derived from ``user_info_url``).
    emails_url: ClassVar[str] = "https://gitee.com/api/v5/emails"

    async def fetch_auth_user(self, token: OAuth2Token) -> AuthUser:
        user = self.map_user(await self.fetch_raw_user(token), token)
        if not user.email:
            user.email = await self.confirmed_primary_email(token)
        return user

    def map_user(self, raw: dict[str, Any], token: OAuth2Token) -> AuthUser:
        """The profile's ``email`` when it is a well-formed address (Gitee shows only the
        user's confirmed public address there); else the e-mail list decides."""
        email = text(raw, "email")
        return self.auth_user(raw, token, id=str(number(raw, "id")), name=text(raw, "name"),
                              username=text(raw, "login"), avatar_url=text(raw, "avatar_url"),
                              email=email if email and is_email(email) else "")

    async def confirmed_primary_email(self, token: OAuth2Token) -> str:
        """The ``confirmed`` address with the ``primary`` scope; an unreadable list is no
        e-mail rather than a failed sign-in, as in PocketBase."""
        response = await self.request(token, "GET", self.emails_url)
        if response.status_code in NO_EMAIL_ACCESS:
            return ""
        try:
            emails = response.json()
            for entry in emails if isinstance(emails, list) else []:
                address, scopes = text(entry, "email"), objects(entry, "scope")
                if (text(entry, "state") == "confirmed" and "primary" in scopes
                        and is_email(address)):
                    return address
        except (ValueError, ProviderError):
            pass
        return ""
