"""VK (ВКонтакте): ``users.get`` for the profile; the e-mail comes with the token, not from
the API (PocketBase's ``tools/auth/vk.go``). VK refuses PKCE parameters."""

from typing import Any

from pbk_sdk.oauth2 import AuthUser, OAuth2Provider, OAuth2Token, ProviderError

from ._common import first, number, text
from ._logos import monogram


class VK(OAuth2Provider):
    display_name = "ВКонтакте"
    logo = monogram("VK", "#0077ff")
    order = 15
    pkce = False
    scopes = ("email",)
    auth_url = "https://oauth.vk.com/authorize"
    token_url = "https://oauth.vk.com/access_token"
    user_info_url = "https://api.vk.com/method/users.get?fields=photo_max,screen_name&v=5.131"

    def map_user(self, raw: dict[str, Any], token: OAuth2Token) -> AuthUser:
        """The first ``response`` entry; the token answer's ``email`` (VK hands it out only
        with the ``email`` scope) is taken as verified."""
        profile = first(raw, "response")
        if profile is None:
            raise ProviderError("VK answered no response entry")
        email = token.raw.get("email")
        name = f"{text(profile, 'first_name')} {text(profile, 'last_name')}".strip()
        return self.auth_user(raw, token, id=str(number(profile, "id")), name=name,
                              username=text(profile, "screen_name"),
                              avatar_url=text(profile, "photo_max"),
                              email="" if email is None else str(email))
