"""``GET|POST /api/oauth2-redirect``: where a provider sends the browser back in the JS SDK's
one-call ``authWithOAuth2({provider})``. The ``state`` is the realtime client id of the SDK
waiting on the ``@oauth2`` topic; it gets ``{state, code[, error]}`` and calls
``auth-with-oauth2`` itself. The browser is sent on to the dashboard's success or failure page
(307 after a GET, 303 after a POST), as PocketBase does; an unknown, missing or foreign state
is a failure, and so is a provider's ``error``."""

from __future__ import annotations

import logging
from typing import Any

import orjson
from pbk_sdk import App
from pbk_sdk.body import read_body
from pbk_sdk.client_ip import real_ip
from pbk_sdk.errors import ApiError
from pbk_sdk.interfaces import REALTIME_CLIENTS

from .state import OAUTH2

log = logging.getLogger(__name__)

TOPIC = "@oauth2"
FAILURE_PATH = "../_/#/auth/oauth2-redirect-failure"
SUCCESS_PATH = "../_/#/auth/oauth2-redirect-success"


class OAuth2Redirect:
    def __init__(self, app: App) -> None:
        self.app = app

    async def on_get(self, req: Any, resp: Any) -> None:
        fields = {key: req.get_param(key) or "" for key in ("state", "code", "error")}
        await self._complete(req, resp, fields, apple_user="")

    async def on_post(self, req: Any, resp: Any) -> None:
        try:
            body = await read_body(req, bad_json="")
            body.close()
        except ApiError as error:
            log.debug("unreadable OAuth2 redirect: %s", error.message)
            self._redirect(req, resp, FAILURE_PATH)
            return
        data = body.data
        fields = {key: data.get(key) if isinstance(data.get(key), str) else "" for key in
                  ("state", "code", "error")}
        user = data.get("user")
        await self._complete(req, resp, fields, apple_user=user if isinstance(user, str) else "")

    async def _complete(self, req: Any, resp: Any, fields: dict[str, str], apple_user: str) -> None:
        clients = self.app.state.get(REALTIME_CLIENTS)
        message = {"state": fields["state"], "code": fields["code"]}
        if fields["error"]:
            message["error"] = fields["error"]
        sent = bool(fields["state"]) and clients is not None and await clients.send_once(
            fields["state"], TOPIC, orjson.dumps(message), remote=real_ip(self.app, req))
        if not sent:
            log.debug("OAuth2 redirect for a missing or invalid realtime client %r", fields["state"])
            self._redirect(req, resp, FAILURE_PATH)
            return
        if apple_user and fields["code"] and not fields["error"]:
            self.app.state[OAUTH2].apple_names.keep(fields["code"], apple_user)
        failed = bool(fields["error"]) or not fields["code"]
        self._redirect(req, resp, FAILURE_PATH if failed else SUCCESS_PATH)

    @staticmethod
    def _redirect(req: Any, resp: Any, location: str) -> None:
        resp.status = 307 if req.method == "GET" else 303
        resp.set_header("Location", location)
