"""The request logger: a falcon middleware that leaves one ``RequestEntry`` per request.

A middleware sees every request the app answers, routed or not (the 404 of an unknown path,
a body too large, a refused token), which the ``request`` event (routed responders only)
does not. Per request it only reads a clock and captures a tuple; the row is built later.
"""

from __future__ import annotations

import time
from typing import Any

from pbk_sdk.auth import request_auth

from .rows import ERROR, INFO, MAX_HEADER, MAX_METHOD, MAX_URL, RequestEntry, cut
from .state import Logs

#: Routes whose successes PocketBase leaves out (``SkipSuccessActivityLog``): the logs API
#: itself, the realtime connection and the OAuth2 redirect (its URL carries the code).
QUIET_PATHS = frozenset({"/api/logs", "/api/logs/stats", "/api/realtime", "/api/oauth2-redirect"})


def quiet_on_success(path: str) -> bool:
    return path in QUIET_PATHS or path.startswith("/api/logs/")


def _url(req: Any) -> str:
    """The request URI as the client sent it (path still escaped, then the query)."""
    scope = req.scope
    raw = scope.get("raw_path")
    path = raw.decode("latin-1") if raw else req.path
    query = scope.get("query_string")
    return f"{path}?{query.decode('latin-1')}" if query else path


class RequestLogger:
    """``process_request`` stamps the start; ``process_response`` queues the entry."""

    def __init__(self, logs: Logs) -> None:
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
        exec_ms = (time.perf_counter() - started) * 1000 if started is not None else 0.0
        auth = request_auth(req)
        self._logs.buffer.add(
            RequestEntry(
                created=time.time(),
                exec_ms=exec_ms,
                method=cut(method.upper(), MAX_METHOD),
                url=cut(_url(req), MAX_URL),
                status=resp.status_code,
                failed=not req_succeeded,
                envelope=None if req_succeeded else resp.media,
                auth=auth.collection_name if auth else "",
                auth_id=auth.id if auth and options.log_auth_id else None,
                ip=(req.remote_addr or "") if options.log_ip else None,
                referer=cut(req.get_header("Referer") or "", MAX_HEADER),
                user_agent=cut(req.get_header("User-Agent") or "", MAX_HEADER),
            )
        )
