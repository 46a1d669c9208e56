"""Strava: ``/api/v3/athlete`` (PocketBase's ``tools/auth/strava.go``). Strava shares no
e-mail address."""

from typing import Any

from pbk_sdk.oauth2 import AuthUser, OAuth2Provider, OAuth2Token

from ._common import number, text
from ._logos import monogram


class Strava(OAuth2Provider):
    display_name = "Strava"
    logo = monogram("S", "#fc4c02")
    order = 25
    pkce = True
    scopes = ("profile:read_all",)
    auth_url = "https://www.strava.com/oauth/authorize"
    token_url = "https://www.strava.com/api/v3/oauth/token"
    user_info_url = "https://www.strava.com/api/v3/athlete"

    def map_user(self, raw: dict[str, Any], token: OAuth2Token) -> AuthUser:
        """The name is first and last name joined by a space (kept even when one is empty,
        as PocketBase does); an id of 0 is no id."""
        athlete_id = number(raw, "id")
        return self.auth_user(raw, token, id=str(athlete_id) if athlete_id else "",
                              name=f"{text(raw, 'firstname')} {text(raw, 'lastname')}",
                              username=text(raw, "username"), avatar_url=text(raw, "profile"))
