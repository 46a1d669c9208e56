"""Discord: ``/api/users/@me`` (PocketBase's ``tools/auth/discord.go``)."""

from typing import Any

from pbk_sdk.oauth2 import AuthUser, OAuth2Provider, OAuth2Token

from ._common import flag, text
from ._logos import monogram

#: Discord's CDN address of a user's avatar (by user id and avatar hash).
AVATAR_URL = "https://cdn.discordapp.com/avatars/{}/{}.png"


class Discord(OAuth2Provider):
    display_name = "Discord"
    logo = monogram("D", "#5865f2")
    order = 12
    pkce = True
    scopes = ("identify", "email")
    auth_url = "https://discord.com/api/oauth2/authorize"
    token_url = "https://discord.com/api/oauth2/token"
    user_info_url = "https://discord.com/api/users/@me"

    def map_user(self, raw: dict[str, Any], token: OAuth2Token) -> AuthUser:
        """The name is the display name, else the username (with its ``#discriminator``
        from before Discord's unique usernames); ``email`` only when ``verified``."""
        user_id, username, avatar = text(raw, "id"), text(raw, "username"), text(raw, "avatar")
        name = text(raw, "global_name")
        if not name:
            discriminator = text(raw, "discriminator")
            name = username + (f"#{discriminator}" if discriminator not in ("", "0") else "")
        return self.auth_user(raw, token, id=user_id, name=name, username=username,
                              email=text(raw, "email") if flag(raw, "verified") else "",
                              avatar_url=AVATAR_URL.format(user_id, avatar) if avatar else "")
