"""``POST /api/batch``: several record writes in one transaction, all or nothing.

As PocketBase: disabled until ``settings.batch.enabled``; at most ``maxRequests`` requests;
each runs with the caller's auth and rules (``@request.context = "batch"``); any failure rolls
back every request and names the failing one; the whole batch must finish within
``timeout`` seconds.

``record_before_write`` fires for every create and update before the transaction begins (the
chains nest: each one's default action is the next one's, the last one's the transaction), so
its handlers' slow work (the files plugin's uploads) never holds the single writer, and they
clean up when the batch fails. A create's id is chosen then, unless its body names one.
"""

from __future__ import annotations

import asyncio
import dataclasses
import re
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl

from pbk_sdk import events as ev
from pbk_sdk.body import Body, read_body
from pbk_sdk.errors import ApiError, FieldError
from pbk_sdk.events import RecordEvent, RecordRequestEvent
from pbk_sdk.http import set_body_limit
from pbk_sdk.interfaces import App
from pbk_sdk.picker import apply_fields

from .collections import Registry
from .records import Records
from .resources import request_context
from .schema import Collection

DEFAULTS = {"enabled": False, "maxRequests": 50, "timeout": 3, "maxBodySize": 0}
DEFAULT_MAX_BODY = 128 << 20
#: A sub-request's URL as PocketBase routes it: a path on this server (never an absolute URL),
#: matched as sent (no ``..`` resolution), with an optional query.
RECORDS_URL = re.compile(r"/api/collections/(?P<collection>[^/?]+)/records(?:/(?P<id>[^/?]+))?(?:\?(?P<query>.*))?", re.DOTALL)
METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE"})
URL_MAX = 2000
FILE_PART = re.compile(r"^requests\.(?P<index>\d+)\.(?P<field>.+)$")
INVALID = "Invalid batch request data."
#: ``@request.context`` (and ``RecordEvent.context``) of a batch's items.
BATCH = "batch"


#: How many nested ``record_before_write`` chains share one task's stack (see ``_before_writes``).
CHAINS_PER_TASK = 40


class _NoBatchAction(Exception):
    """A sub-request no batch action matches (method and URL)."""


class Batch:
    def __init__(self, app: App, registry: Registry, records: Records) -> None:
        self.app = app
        self.registry = registry
        self.records = records

    async def on_post(self, req: Any, resp: Any) -> None:
        settings = {**DEFAULTS, **(self.app.settings.get("batch") or {})}
        if not settings["enabled"]:
            raise ApiError(403, "Batch requests are not allowed.")
        set_body_limit(req, int(settings["maxBodySize"] or DEFAULT_MAX_BODY))
        body = await read_body(req, bad_json=INVALID)
        try:
            requests = self._requests(body, int(settings["maxRequests"]))
            try:
                resp.media = await asyncio.wait_for(self._run(req, requests), timeout=float(settings["timeout"] or 3))
            except TimeoutError as exc:
                raise ApiError(400, "Batch transaction failed.", {"requests": FieldError("batch_timeout", "The batch took too long.")}) from exc
        finally:
            body.close()

    def _requests(self, body: Body, maximum: int) -> list[dict[str, Any]]:
        requests = body.data.get("requests")
        if not isinstance(requests, list) or not requests:
            raise ApiError(400, INVALID, {"requests": FieldError("validation_required", "Cannot be blank.")})
        if len(requests) > maximum:
            raise ApiError(400, INVALID, {"requests": FieldError("validation_length_too_long", f"The length must be no more than {maximum}.", {"max": maximum})})
        problems: dict[str, Any] = {}
        for index, item in enumerate(requests):
            if not isinstance(item, dict) or not isinstance(item.get("url", ""), str) or not isinstance(item.get("method", ""), str):
                problems[str(index)] = FieldError("validation_invalid_value", "Invalid value.")
                continue
            item_problems = _request_problems(item.get("method", ""), item.get("url", ""))
            if item_problems:
                problems[str(index)] = item_problems
                continue
            item["body"] = item.get("body") if isinstance(item.get("body"), dict) else {}
            item["files"] = {}
        for name, uploads in body.files.items():
            match = FILE_PART.match(name)
            if match is None or int(match["index"]) >= len(requests) or str(match["index"]) in problems:
                continue
            requests[int(match["index"])]["files"][match["field"]] = uploads
        if problems:
            raise ApiError(400, INVALID, {"requests": problems})
        return requests

    async def _run(self, req: Any, requests: list[dict[str, Any]]) -> list[dict[str, Any]]:
        results: list[dict[str, Any]] = []
        befores = [e for e in (self._before_write(req, item) for item in requests) if e is not None]

        async def transaction() -> None:
            async with self.app.db.transaction():
                for index, item in enumerate(requests):
                    try:
                        try:
                            results.append(await self._one(req, item))
                        except _NoBatchAction as exc:
                            # PocketBase finds no handler: a plain error, which reaches the answer
                            # through the previous sub-request's handler (as a 500) unless first.
                            raise ApiError(400 if index == 0 else 500) from exc
                    except ApiError as error:
                        raise ApiError(400, "Batch transaction failed.", {"requests": {str(index): {
                            "code": "batch_request_failed",
                            "message": "Batch request failed.",
                            "response": error.to_json(),
                        }}}) from error

        await self._before_writes(befores, transaction)
        if len(results) != len(requests):  # a record_before_write handler stopped its chain
            raise ApiError(400, "Batch transaction failed.")
        return results

    async def _before_writes(
        self, befores: list[RecordEvent], transaction: Callable[[], Awaitable[None]], start: int = 0
    ) -> None:
        """Fire ``record_before_write`` for each of ``befores``, nested, around ``transaction``.

        Every chain adds a few stack frames to the one it runs in; past ``CHAINS_PER_TASK`` the
        rest goes on in a task of its own (a fresh stack, the same context), so a batch of
        hundreds of items stays far from the recursion limit."""
        if start == len(befores):
            await transaction()
            return
        if start and start % CHAINS_PER_TASK == 0:
            await asyncio.create_task(self._run_chain(befores, transaction, start))
            return
        await self._run_chain(befores, transaction, start)

    async def _run_chain(
        self, befores: list[RecordEvent], transaction: Callable[[], Awaitable[None]], start: int
    ) -> None:
        async def rest(_: RecordEvent) -> None:
            await self._before_writes(befores, transaction, start + 1)

        await self.app.events.trigger(ev.RECORD_BEFORE_WRITE, befores[start], rest)

    def _before_write(self, req: Any, item: dict[str, Any]) -> RecordEvent | None:
        """The ``record_before_write`` event of a create or update item, when anything listens
        to it for that collection; a create without an id in its body gets one here."""
        try:
            method, match, collection = self._target(item)
        except (_NoBatchAction, ApiError):
            return None  # the item fails in the transaction, in its turn
        if method == "DELETE" or not self.app.events.has(ev.RECORD_BEFORE_WRITE, collection):
            return None
        record_id = match["id"] or str(item["body"].get("id") or "")
        if not record_id:
            id_field = collection.field("id")
            record_id = self.records.field_types["text"].autogenerate(id_field.data if id_field else {}) or ""
        item["staged_id"] = record_id
        ctx = request_context(req)
        return RecordEvent(
            collection=collection, record={"id": record_id}, auth=ctx.auth, files=item["files"], context=BATCH
        )

    def _target(self, item: dict[str, Any]) -> tuple[str, re.Match[str], Collection]:
        """The item's method, URL match and collection; raises when no batch action fits."""
        method = item["method"]
        match = RECORDS_URL.fullmatch(item["url"])
        allowed = match is not None and (
            (method in ("POST", "PUT") and match["id"] is None)
            or (method in ("PATCH", "DELETE") and match["id"] is not None)
        )
        if match is None or not allowed:
            raise _NoBatchAction(f"{method} {item['url']}")
        collection = self.registry.get(match["collection"])
        if collection is None:
            raise ApiError(404, "Missing collection context.")
        return method, match, collection

    async def _one(self, req: Any, item: dict[str, Any]) -> dict[str, Any]:
        method, match, collection = self._target(item)
        ctx = request_context(req)
        query = dict(parse_qsl(match["query"] or "", keep_blank_values=True))
        expand = [p.strip() for p in query.get("expand", "").split(",") if p.strip()]
        ctx = dataclasses.replace(ctx, expand=expand, info=dataclasses.replace(ctx.info, context=BATCH, query=query, method=method))
        data, files = item["body"], item["files"]
        record_id = match["id"] or ""
        if method == "PUT":
            existing = str(data.get("id") or "")
            method = "PATCH" if existing and await self.records.get(collection, existing) else "POST"
            record_id = existing
        event = RecordRequestEvent(request=req, response=None, collection=collection, record_id=record_id, body=data)

        async def perform(e: RecordRequestEvent) -> dict[str, Any]:
            if method == "DELETE":
                await self.records.delete(e.collection, e.record_id, ctx)
                return {"body": None, "status": 204}
            staged_id = item.get("staged_id")
            if method == "POST":
                values = await self.records.create(
                    e.collection, Body(e.body, files), ctx, record_id=staged_id or "", staged=staged_id is not None
                )
            else:
                values = await self.records.update(
                    e.collection, e.record_id, Body(e.body, files), ctx, staged=staged_id is not None
                )
            [record] = await self.records.present(e.collection, [values], ctx)
            if query.get("fields"):
                record = apply_fields(record, query["fields"])
            return {"body": record, "status": 200}

        name = {"POST": ev.RECORD_CREATE_REQUEST, "PATCH": ev.RECORD_UPDATE_REQUEST, "DELETE": ev.RECORD_DELETE_REQUEST}[method]

        async def default(e: RecordRequestEvent) -> None:
            e.result = await perform(e)

        await self.app.events.trigger(name, event, default)
        return event.result


def _request_problems(method: str, url: str) -> dict[str, FieldError]:
    """PocketBase's checks of one sub-request: an upper-case method it knows, a URL of at
    most ``URL_MAX`` characters."""
    problems = {}
    if not method:
        problems["method"] = FieldError("validation_required", "Cannot be blank.")
    elif method not in METHODS:
        problems["method"] = FieldError("validation_in_invalid", "Must be a valid value.")
    if not url:
        problems["url"] = FieldError("validation_required", "Cannot be blank.")
    elif len(url) > URL_MAX:
        problems["url"] = FieldError(
            "validation_length_too_long", f"The length must be no more than {URL_MAX}.", {"max": URL_MAX, "min": 0}
        )
    return problems
