"""The middleware that applies the rate limits to every request, after auth is known.

A request about a collection (``routes.collection_route``) is counted under its collection's
tags, then its path labels, with one counter per collection, route and audience; any other
request under its path labels (``METHOD /path``, ``/path`` and the ``/prefix/`` rules that
contain it), with one counter per rule. Either way the counter is per client IP
(``pbk_sdk.client_ip.real_ip``) and lives in ``app.cluster.counters``, so it holds across
workers. Superusers, ``excludedIPs`` and a disabled setting skip the check, as in PocketBase.
"""

from __future__ import annotations

from typing import Any

from pbk_sdk import App
from pbk_sdk.auth import request_auth
from pbk_sdk.client_ip import ip_in_list, real_ip
from pbk_sdk.errors import ApiError
from pbk_sdk.events import SETTINGS_RELOAD
from pbk_sdk.interfaces import RECORD_STORE

from .routes import WRITES, collection_route
from .rules import AUTH_AUDIENCES, GUEST_AUDIENCES, Limits, Rule


class RateLimiter:
    """Falcon middleware; ``limits`` follows the setting (``listen``)."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.limits = Limits.from_setting(None)

    def listen(self) -> None:
        """Read the setting now and whenever it changes (here or on another worker)."""

        async def reload(event: Any) -> None:
            self.reload()
            await event.next()

        self.reload()
        self.app.events.on(SETTINGS_RELOAD, reload)

    def reload(self) -> None:
        self.limits = Limits.from_setting(self.app.settings.get("rateLimits"))

    async def process_request(self, req: Any, resp: Any) -> None:
        limits = self.limits
        if not limits.enabled or resp.complete:
            return
        auth = request_auth(req)
        if auth is not None and auth.is_superuser:
            return
        ip = real_ip(self.app, req)
        if not ip or (limits.excluded_ips and ip_in_list(limits.excluded_ips, ip)):
            return
        audiences = GUEST_AUDIENCES if auth is None else AUTH_AUDIENCES
        path_labels = (f"{req.method} {req.path}", req.path)
        target = collection_route(req.method, req.path)
        if target is None:
            rule = limits.find(path_labels, audiences)
            key = None if rule is None else rule.label + rule.audience
        else:
            collection = self.app.services.get(RECORD_STORE, "sqlite").collection(target.collection)
            if collection is None or (collection.type == "view" and WRITES.intersection(target.tags)):
                return  # refused before any counting, as in PocketBase
            labels = (*(f"{collection.name}:{tag}" for tag in target.tags),
                      *(f"*:{tag}" for tag in target.tags), *path_labels)
            rule = limits.find(labels, audiences)
            key = None if rule is None else f"{collection.id} {target.route}{rule.audience}"
        if rule is not None and key is not None:
            _consume(self.app, rule, key, ip)


def _consume(app: App, rule: Rule, key: str, ip: str) -> None:
    # The rule's numbers are part of the key: a changed rule starts with fresh counters.
    counter = f"{key}\n{rule.max_requests}/{rule.duration}\n{ip}"
    if not app.cluster.counters.consume(counter, rule.max_requests, rule.duration):
        raise ApiError(429)
