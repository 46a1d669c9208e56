"""The middleware that applies the rate limits to every request, after auth is known, and the
handlers that count the requests inside a ``POST /api/batch``.

A request about a collection (``routes.collection_route``) is counted under its collection's
tags, then its path labels, with one counter per collection, route and audience; any other
request under its path labels (``METHOD /path``, ``/path`` and the ``/prefix/`` rules that
contain it), with one counter per rule. Either way the counter is per client IP
(``pbk_sdk.client_ip.real_ip``) and is one of ``app.cluster``'s counters (``consume``), so it
holds across workers and, on a PostgreSQL database several nodes share, across nodes. Superusers, ``excludedIPs`` and a disabled setting skip the check, as in PocketBase.

As in PocketBase, each create, update or delete inside a batch is counted too, under its
collection's tags and its own path (the batch itself counts under ``/api/batch``), in counters
apart from those of the same requests sent alone; one refused fails the batch.
"""

from __future__ import annotations

from typing import Any

from pbk_sdk import App, priorities, routes
from pbk_sdk.auth import request_auth
from pbk_sdk.client_ip import ip_in_list, real_ip
from pbk_sdk.errors import ApiError
from pbk_sdk.events import (
    RECORD_CREATE_REQUEST,
    RECORD_DELETE_REQUEST,
    RECORD_UPDATE_REQUEST,
    SETTINGS_RELOAD,
    RecordRequestEvent,
)
from pbk_sdk.interfaces import RECORD_STORE

from .routes import WRITES, collection_route
from .rules import AUTH_AUDIENCES, GUEST_AUDIENCES, Limits, Rule

#: A batch item's event → its tag and the method of the sub-request PocketBase routes it as.
BATCH_ITEMS = {
    RECORD_CREATE_REQUEST: ("create", "POST"),
    RECORD_UPDATE_REQUEST: ("update", "PATCH"),
    RECORD_DELETE_REQUEST: ("delete", "DELETE"),
}


class RateLimiter:
    """Falcon middleware; ``limits`` follows the setting (``listen``)."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.limits = Limits.from_setting(None)

    def listen(self) -> None:
        """Read the setting now and whenever it changes (here or on another worker); count the
        items of batches."""

        async def reload(event: Any) -> None:
            self.reload()
            await event.next()

        self.reload()
        self.app.events.on(SETTINGS_RELOAD, reload)
        for name, (tag, method) in BATCH_ITEMS.items():
            self.app.events.on(name, self._batch_item_counter(tag, method), priority=priorities.OBSERVE)

    def reload(self) -> None:
        self.limits = Limits.from_setting(self.app.settings.get("rateLimits"))

    def _client(self, req: Any) -> tuple[Limits, str, tuple[str, ...]] | None:
        """The setting, the client's IP and audiences, or None when nothing is to be counted."""
        limits = self.limits
        if not limits.enabled:
            return None
        auth = request_auth(req)
        if auth is not None and auth.is_superuser:
            return None
        ip = real_ip(self.app, req)
        if not ip or (limits.excluded_ips and ip_in_list(limits.excluded_ips, ip)):
            return None
        return limits, ip, GUEST_AUDIENCES if auth is None else AUTH_AUDIENCES

    async def process_request(self, req: Any, resp: Any) -> None:
        client = None if resp.complete else self._client(req)
        if client is None:
            return
        limits, ip, audiences = client
        path_labels = (f"{req.method} {req.path}", req.path)
        target = collection_route(req.method, req.path)
        if target is None:
            rule = limits.find(path_labels, audiences)
            if rule is not None:
                await _consume(self.app, rule, rule.label + rule.audience, ip)
            return
        collection = self.app.services.get(RECORD_STORE, "sqlite").collection(target.collection)
        if collection is None or (collection.type == "view" and WRITES.intersection(target.tags)):
            return  # refused before any counting, as in PocketBase
        await _count_for_collection(self.app, limits, ip, audiences, collection, target.tags, path_labels,
                                    target.route)

    def _batch_item_counter(self, tag: str, method: str) -> Any:
        async def count(e: RecordRequestEvent) -> None:
            req = e.request
            client = None if req is None or req.path != routes.BATCH else self._client(req)
            if client is not None and e.collection.type != "view":
                limits, ip, audiences = client
                # a PUT that creates carries its new id; PocketBase counts it as a POST create
                record_id = "" if method == "POST" else e.record_id
                path = f"/api/collections/{e.collection.name}/records" + (f"/{record_id}" if record_id else "")
                route = f"batch {method} records" + ("/{id}" if record_id else "")
                await _count_for_collection(self.app, limits, ip, audiences, e.collection, (tag,),
                                            (f"{method} {path}", path), route)
            await e.next()

        return count


async def _count_for_collection(
    app: App, limits: Limits, ip: str, audiences: tuple[str, ...], collection: Any,
    tags: tuple[str, ...], path_labels: tuple[str, str], route: str,
) -> None:
    labels = (*(f"{collection.name}:{tag}" for tag in tags), *(f"*:{tag}" for tag in tags), *path_labels)
    rule = limits.find(labels, audiences)
    if rule is not None:
        await _consume(app, rule, f"{collection.id} {route}{rule.audience}", ip)


async def _consume(app: App, rule: Rule, key: str, ip: str) -> None:
    # The rule's numbers are part of the key: a changed rule starts with fresh counters.
    counter = f"{key}\n{rule.max_requests}/{rule.duration}\n{ip}"
    if not await app.cluster.consume(counter, rule.max_requests, rule.duration):
        raise ApiError(429)
