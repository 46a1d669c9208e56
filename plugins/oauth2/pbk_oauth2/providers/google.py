"""Google: OpenID Connect's userinfo (PocketBase's ``tools/auth/google.go``)."""

from typing import Any

from pbk_sdk.oauth2 import AuthUser, OAuth2Provider, OAuth2Token

from ._logos import monogram


class Google(OAuth2Provider):
    display_name = "Google"
    logo = monogram("G", "#4285f4")
    order = 2
    pkce = True
    scopes = ("https://www.googleapis.com/auth/userinfo.profile",
              "https://www.googleapis.com/auth/userinfo.email")
    auth_url = "https://accounts.google.com/o/oauth2/v2/auth"
    token_url = "https://oauth2.googleapis.com/token"
    user_info_url = "https://www.googleapis.com/oauth2/v3/userinfo"

    def map_user(self, raw: dict[str, Any], token: OAuth2Token) -> AuthUser:
        """``email`` only when Google says ``email_verified: true``."""
        return self.auth_user(raw, token, id=str(raw.get("sub") or ""),
                              name=str(raw.get("name") or ""),
                              avatar_url=str(raw.get("picture") or ""),
                              email=str(raw.get("email") or "") if raw.get("email_verified") is True else "")
