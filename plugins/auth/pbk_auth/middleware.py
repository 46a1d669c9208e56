"""The middleware that tells who is asking: ``req.context.auth`` is the ``RequestAuth`` of a
valid ``Authorization`` auth token; no token or a bad one makes a guest (``None``), as in
PocketBase, never an error. A superuser's token from an address outside ``superuserIPs`` is
refused with PocketBase's 403, on every route."""

from __future__ import annotations

from typing import Any

from pbk_sdk import App
from pbk_sdk.client_ip import superuser_ip_allowed
from pbk_sdk.errors import ApiError

from . import tokens
from .token_service import authenticate_token


class AuthMiddleware:
    """Runs before every route; reads the record fresh, so a revoked token fails at once."""

    def __init__(self, app: App) -> None:
        self.app = app

    async def process_request(self, req: Any, resp: Any) -> None:
        req.context.auth = None
        token = tokens.from_header(req.get_header("Authorization"))
        if token:
            auth = req.context.auth = await authenticate_token(self.app, token)
            if auth is not None and auth.is_superuser and not superuser_ip_allowed(self.app, req):
                raise ApiError(403)
