"""Sign in with Apple: the user is the ``id_token`` Apple returns with the access token,
checked against Apple's issuer and signing keys (PocketBase's ``tools/auth/apple.go``).

Apple sends the user's name only once, in the redirect form, not in the ``id_token``: the
oauth2 plugin fills it in from there, and signs the client-secret JWT Apple wants."""

from typing import Any, ClassVar

from pbk_sdk.oauth2 import AuthUser, OAuth2Provider, OAuth2Token, truthy

from ._common import text
from ._logos import monogram


class Apple(OAuth2Provider):
    display_name = "Apple"
    logo = monogram("A", "#000")
    order = 1
    pkce = True
    scopes = ("name", "email")
    auth_url = "https://appleid.apple.com/auth/authorize"
    token_url = "https://appleid.apple.com/auth/token"
    #: Apple's public keys for its ``id_token`` signatures, and the issuer they must name.
    jwks_url: ClassVar[str] = "https://appleid.apple.com/auth/keys"
    issuer: ClassVar[str] = "https://appleid.apple.com"

    async def fetch_raw_user(self, token: OAuth2Token) -> dict[str, Any]:
        """The ``id_token``'s claims: for this client, unexpired (``exp`` required), from
        Apple, and signed by one of Apple's keys."""
        return await self.id_token_claims(token, jwks_url=self.jwks_url, issuers=[self.issuer],
                                          require_expiry=True)

    def map_user(self, raw: dict[str, Any], token: OAuth2Token) -> AuthUser:
        """``email`` only when ``email_verified`` is true (Apple sends it as text or bool)."""
        email = text(raw, "email")
        return self.auth_user(raw, token, id=text(raw, "sub"), name=text(raw, "name"),
                              email=email if truthy(raw.get("email_verified")) else "")
