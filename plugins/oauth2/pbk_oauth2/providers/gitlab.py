"""GitLab: ``/api/v4/user`` (PocketBase's ``tools/auth/gitlab.go``); point the URLs at a
self-managed instance to use one."""

from typing import Any

from pbk_sdk.oauth2 import AuthUser, OAuth2Provider, OAuth2Token

from ._common import number, rfc3339_set, text
from ._logos import monogram


class GitLab(OAuth2Provider):
    display_name = "GitLab"
    logo = monogram("GL", "#fc6d26")
    order = 8
    pkce = True
    scopes = ("read_user",)
    auth_url = "https://gitlab.com/oauth/authorize"
    token_url = "https://gitlab.com/oauth/token"
    user_info_url = "https://gitlab.com/api/v4/user"

    def map_user(self, raw: dict[str, Any], token: OAuth2Token) -> AuthUser:
        """``email`` only once the account is confirmed (``confirmed_at`` is a time)."""
        email = text(raw, "email") if rfc3339_set(text(raw, "confirmed_at")) else ""
        return self.auth_user(raw, token, id=str(number(raw, "id")), name=text(raw, "name"),
                              username=text(raw, "username"), email=email,
                              avatar_url=text(raw, "avatar_url"))
