"""``POST /api/collections/{collection}/auth-refresh``: a fresh token for the record signed in
(a non-refreshable token, such as an impersonation's, comes back unchanged)."""

from __future__ import annotations

from typing import Any

from . import tokens
from .login import auth_response, check_auth_rule
from .services import AuthEndpoint


class AuthRefresh(AuthEndpoint):
    async def on_post(self, req: Any, resp: Any, collection: str) -> None:
        coll = self.collection(collection)
        auth = self.require_same_collection(req, coll)
        await check_auth_rule(self.app, coll, auth.record, "default")
        token = tokens.from_header(req.get_header("Authorization")) or ""
        claims = tokens.unverified_claims(token) or {}
        if claims.get("refreshable", True):
            token = tokens.mint(auth.record, coll)
        resp.media = await auth_response(self.app, coll, auth.record, token, req, "refresh")
