"""Microsoft (Entra ID / personal accounts): Microsoft Graph's ``/me`` (PocketBase's
``tools/auth/microsoft.go``).

Graph's ``mail`` is whatever the tenant stored, not a checked address. ``extra.idTokenEmailClaim``
takes the e-mail from the ``id_token`` instead (and asks the ``openid`` scope to get one):

- ``verified_primary_email``: that optional claim;
- ``email_and_xms_edov``: ``email`` when ``xms_edov`` (domain owner verified) is true;
- ``any_verified``: the first, else the second;
- ``email``: the ``email`` claim as it is.
"""

from typing import Any

from pbk_sdk.oauth2 import AuthUser, OAuth2Provider, OAuth2Token, ProviderError, truthy

from ._common import text
from ._logos import monogram

#: The ``extra`` key choosing where the e-mail comes from.
EMAIL_CLAIM_SETTING = "idTokenEmailClaim"


class Microsoft(OAuth2Provider):
    display_name = "Microsoft"
    logo = monogram("MS", "#00a4ef")
    order = 3
    pkce = True
    scopes: tuple[str, ...] = ("User.Read",)
    auth_url = "https://login.microsoftonline.com/common/oauth2/v2.0/authorize"
    token_url = "https://login.microsoftonline.com/common/oauth2/v2.0/token"
    user_info_url = "https://graph.microsoft.com/v1.0/me"

    def setup(self) -> None:
        """An e-mail from the ``id_token`` needs the ``openid`` scope to get an ``id_token``."""
        setting = self.extra.get(EMAIL_CLAIM_SETTING)
        # Any scalar but "" counts (Go's cast.ToString is not empty), even false.
        if isinstance(setting, str | int | float) and str(setting) and "openid" not in self.scopes:
            self.scopes = (*self.scopes, "openid")

    async def fetch_auth_user(self, token: OAuth2Token) -> AuthUser:
        user = self.map_user(await self.fetch_raw_user(token), token)
        setting = self.extra.get(EMAIL_CLAIM_SETTING)
        if setting in ("any_verified", "verified_primary_email", "email_and_xms_edov", "email"):
            user.email = email_from_claims(await self.trusted_claims(token), setting)
        return user

    def map_user(self, raw: dict[str, Any], token: OAuth2Token) -> AuthUser:
        """Graph's ``mail`` is the e-mail unless ``extra.idTokenEmailClaim`` says otherwise."""
        return self.auth_user(raw, token, id=text(raw, "id"), name=text(raw, "displayName"),
                              email=text(raw, "mail"))

    async def trusted_claims(self, token: OAuth2Token) -> dict[str, Any]:
        """The ``id_token``'s claims, its times checked; it came straight from the token
        endpoint, so neither signature nor audience is checked. Unusable: no claims."""
        try:
            return await self.id_token_claims(token, check_audience=False)
        except ProviderError:
            return {}


def email_from_claims(claims: dict[str, Any], setting: str) -> str:
    """The e-mail ``setting`` picks from the claims; only a text claim counts."""
    primary = claims.get("verified_primary_email")
    primary = primary if isinstance(primary, str) else ""
    email = claims.get("email")
    email = email if isinstance(email, str) else ""
    owner_verified = email if truthy(claims.get("xms_edov")) else ""
    return {"verified_primary_email": primary, "email_and_xms_edov": owner_verified,
            "any_verified": primary or owner_verified, "email": email}[setting]
