"""``GET|POST /api/oauth2-redirect``: where a provider sends the browser back in the JS SDK's
one-call ``authWithOAuth2({provider})``. The ``state`` is the realtime client id of the SDK
waiting on the ``@oauth2`` topic; it gets ``{state, code[, error]}`` and calls
``auth-with-oauth2`` itself. The browser is sent on to the dashboard's success or failure page
(307 after a GET, 303 after a POST) when a dashboard plugin is installed (``DASHBOARD_PATH``),
else answered PocketBase's own plain page (as PocketBase built without its dashboard); an
unknown, missing or foreign state is a failure, and so is a provider's ``error``."""

from __future__ import annotations

import logging
from typing import Any

import orjson
from pbk_sdk import App
from pbk_sdk.body import read_body
from pbk_sdk.client_ip import real_ip
from pbk_sdk.errors import ApiError
from pbk_sdk.interfaces import DASHBOARD_PATH, REALTIME_CLIENTS

from .state import OAUTH2

log = logging.getLogger(__name__)

TOPIC = "@oauth2"
FAILURE_PAGE = "oauth2-redirect-failure"
SUCCESS_PAGE = "oauth2-redirect-success"
#: What PocketBase built without its dashboard answers (200; the failure as plain text).
SUCCESS_TEXT = "Auth completed. You can close this window and go back to the app."
FAILURE_TEXT = "Failed to authenticate. You can close this window and go back to the app to try again."


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
            self._finish(req, resp, FAILURE_PAGE)
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
            self._finish(req, resp, FAILURE_PAGE)
            return
        if apple_user and fields["code"] and not fields["error"]:
            self.app.state[OAUTH2].apple_names.keep(fields["code"], apple_user)
        failed = bool(fields["error"]) or not fields["code"]
        self._finish(req, resp, FAILURE_PAGE if failed else SUCCESS_PAGE)

    def _finish(self, req: Any, resp: Any, page: str) -> None:
        """To the dashboard's ``page`` (relative, as PocketBase's ``../_/#/auth/…``), or the
        plain page without a dashboard."""
        dashboard = self.app.state.get(DASHBOARD_PATH)
        if dashboard is None:
            resp.status = 200
            if page == SUCCESS_PAGE:
                resp.content_type, resp.text = "text/html; charset=utf-8", SUCCESS_TEXT
            else:
                resp.content_type, resp.text = "text/plain; charset=utf-8", FAILURE_TEXT
            return
        folder = dashboard.strip("/")
        resp.status = 307 if req.method == "GET" else 303
        resp.set_header("Location", f"../{folder}/#/auth/{page}" if folder else f"../#/auth/{page}")
