"""Instagram (business login): the Graph API's ``/me`` (PocketBase's ``tools/auth/instagram.go``,
registered as ``instagram2``: the name ``instagram`` belonged to Basic Display, now gone)."""

from typing import Any

from pbk_sdk.oauth2 import AuthUser, OAuth2Provider, OAuth2Token

from ._common import text
from ._logos import monogram


class Instagram(OAuth2Provider):
    display_name = "Instagram"
    logo = monogram("IG", "#e1306c")
    order = 6
    pkce = True
    scopes = ("instagram_business_basic",)
    auth_url = "https://www.instagram.com/oauth/authorize"
    token_url = "https://api.instagram.com/oauth/access_token"
    user_info_url = ("https://graph.instagram.com/me?fields=id,username,account_type,user_id,name,"
                     "profile_picture_url,followers_count,follows_count,media_count")

    def map_user(self, raw: dict[str, Any], token: OAuth2Token) -> AuthUser:
        """No e-mail: Instagram has none to share. The token answer's granted
        ``permissions`` are kept in the raw user, unless the user API sent its own."""
        if "permissions" not in raw and token.raw.get("permissions") is not None:
            raw = {**raw, "permissions": token.raw["permissions"]}
        return self.auth_user(raw, token, id=text(raw, "user_id"), name=text(raw, "name"),
                              username=text(raw, "username"),
                              avatar_url=text(raw, "profile_picture_url"))
