"""Spotify: ``/v1/me`` (PocketBase's ``tools/auth/spotify.go``). No e-mail: the default
scope does not grant it, and Spotify does not say whether it is verified."""

from typing import Any

from pbk_sdk.oauth2 import AuthUser, OAuth2Provider, OAuth2Token

from ._common import first, text
from ._logos import monogram


class Spotify(OAuth2Provider):
    display_name = "Spotify"
    logo = monogram("S", "#1db954")
    order = 21
    pkce = True
    scopes = ("user-read-private",)
    auth_url = "https://accounts.spotify.com/authorize"
    token_url = "https://accounts.spotify.com/api/token"
    user_info_url = "https://api.spotify.com/v1/me"

    def map_user(self, raw: dict[str, Any], token: OAuth2Token) -> AuthUser:
        """The first of ``images`` is the avatar."""
        image = first(raw, "images")
        return self.auth_user(raw, token, id=text(raw, "id"), name=text(raw, "display_name"),
                              avatar_url=text(image, "url") if image is not None else "")
