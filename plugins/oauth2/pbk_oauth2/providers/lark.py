"""Lark (Feishu): ``/open-apis/authen/v1/user_info`` (PocketBase's ``tools/auth/lark.go``).

The defaults are Feishu's (``feishu.cn``, mainland China), as Lark's own SDK chooses; Lark
outside China serves the same API at ``larksuite.com``: set the three URLs to use it."""

from typing import Any

from pbk_sdk.oauth2 import AuthUser, OAuth2Provider, OAuth2Token

from ._common import text
from ._logos import monogram


class Lark(OAuth2Provider):
    display_name = "Lark"
    logo = monogram("L", "#3370ff")
    order = 19
    pkce = True
    auth_url = "https://accounts.feishu.cn/open-apis/authen/v1/authorize"
    token_url = "https://open.feishu.cn/open-apis/authen/v2/oauth/token"
    user_info_url = "https://open.feishu.cn/open-apis/authen/v1/user_info"

    def map_user(self, raw: dict[str, Any], token: OAuth2Token) -> AuthUser:
        """``union_id`` is the id: the same person across one developer's apps (``open_id``
        changes per app). No e-mail: Lark does not say whether it is verified."""
        return self.auth_user(raw, token, id=text(raw, "data.union_id"),
                              name=text(raw, "data.name"),
                              avatar_url=text(raw, "data.avatar_url"))
