"""The request logger: a falcon middleware that leaves one ``RequestEntry`` per request.

A middleware sees every request the app answers, routed or not (the 404 of an unknown path,
a body too large, a refused token), which the ``request`` event (routed responders only)
does not. Per request it reads a clock and captures a tuple; the row is built in the background
flush. ``remoteIP`` is the socket's peer, ``userIP`` the client as ``trustedProxy`` finds it.
"""

from __future__ import annotations

import time
from typing import Any

from pbk_sdk.auth import request_auth
from pbk_sdk.client_ip import real_ip, remote_ip
from pbk_sdk.interfaces import App

from .rows import ERROR, INFO
from .state import Logs

#: Routes whose successes PocketBase leaves out (``SkipSuccessActivityLog``): the logs API
#: itself, the realtime connection and the OAuth2 redirect (its URL carries the code).
QUIET_PATHS = frozenset({"/api/logs", "/api/logs/stats", "/api/realtime", "/api/oauth2-redirect"})


def quiet_on_success(path: str) -> bool:
    return path in QUIET_PATHS or path.startswith("/api/logs/")


class RequestLogger:
    """``process_request`` stamps the start; ``process_response`` queues the entry."""

    def __init__(self, app: App, logs: Logs) -> None:
        self._app = app
        self._logs = logs

    async def process_request(self, req: Any, resp: Any) -> None:
        req.context.log_started = time.perf_counter()

    async def process_response(self, req: Any, resp: Any, resource: Any, req_succeeded: bool) -> None:
        options = self._logs.options
        method = req.method
        if not options.enabled or method == "OPTIONS":
            return
        if (INFO if req_succeeded else ERROR) < options.min_level:
            return
        if req_succeeded and quiet_on_success(req.path):
            return
        started = getattr(req.context, "log_started", None)
        scope = req.scope
        auth = request_auth(req)
        self._logs.buffer.add((
            time.time(),
            (time.perf_counter() - started) * 1000 if started is not None else 0.0,
            req.method,
            scope.get("raw_path") or req.path.encode(),
            scope.get("query_string", b""),
            req.get_header("Referer") or "",
            req.get_header("User-Agent") or "",
            (remote_ip(req), real_ip(self._app, req)) if options.log_ip else None,
            resp.status_code,
            not req_succeeded,
            None if req_succeeded else resp.media,
            auth.collection_name if auth else "",
            auth.id if auth and options.log_auth_id else None,
        ))
