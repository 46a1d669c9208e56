"""Acme ID, an OpenID Connect service whose user API names things its own way."""

from typing import Any

from pbk_sdk.oauth2 import AuthUser, OAuth2Provider, OAuth2Token, truthy


class Acme(OAuth2Provider):
    display_name = "Acme ID"
    logo = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 8 8"><circle cx="4" cy="4" r="4"/></svg>'
    order = 50
    auth_url = "https://id.acme.example/auth"
    token_url = "https://id.acme.example/token"
    user_info_url = "https://id.acme.example/me"
    scopes = ("openid", "email", "profile")

    def map_user(self, raw: dict[str, Any], token: OAuth2Token) -> AuthUser:
        return self.auth_user(raw, token, id=f"acme:{raw['sub']}", name=raw.get("name", ""),
                              username=raw.get("preferred_username", ""),
                              email=raw.get("email", "") if truthy(raw.get("email_verified")) else "")
