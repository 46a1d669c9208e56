"""PocketBase's realtime API: ``GET /api/realtime`` (the SSE stream) and ``POST /api/realtime``
(a client's subscriptions), answered as PocketBase answers them."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import orjson
from pbk_sdk.auth import request_auth
from pbk_sdk.body import read_body
from pbk_sdk.client_ip import real_ip
from pbk_sdk.errors import ApiError, FieldError
from pbk_sdk.interfaces import App

from .hub import PING, Batch, Client, sse_head
from .service import REALTIME, Realtime

MAX_TOPICS = 1000
MAX_TOPIC_LENGTH = 2500


class Raw:
    """An SSE event framed by ``hub`` (falcon calls ``serialize``): the client's own lines and
    the payload shared with other clients, joined only when sent."""

    __slots__ = ("head", "payload")

    def __init__(self, head: bytes, payload: bytes) -> None:
        self.head = head
        self.payload = payload

    def serialize(self, handler: Any = None) -> bytes:
        return self.head + self.payload + b"\n\n"


class RealtimeResource:
    """``/api/realtime``: GET opens a client's stream, POST sets its subscriptions.

    Made when the app is built, so it holds the app and finds the realtime service, which
    ``pbk_startup`` makes, on each request."""

    def __init__(self, app: App) -> None:
        self._app = app

    async def on_get(self, req: Any, resp: Any) -> None:
        realtime = self._app.state[REALTIME]
        client = realtime.connect(remote=real_ip(self._app, req))
        resp.set_header("Cache-Control", "no-store")
        resp.set_header("X-Accel-Buffering", "no")
        resp.sse = self._stream(realtime, client)

    async def _stream(self, realtime: Realtime, client: Client) -> AsyncIterator[Raw | None]:
        try:
            yield Raw(sse_head(client.id, "PB_CONNECT"), orjson.dumps({"clientId": client.id}))
            while True:
                item = await client.queue.get()
                if item is None:
                    return
                if item is PING:
                    yield None  # falcon sends a ": ping" comment, and notices a closed connection
                    continue
                client.last_message = time.monotonic()
                if isinstance(item, Batch):
                    client.taken_batch(item)
                    for head, payload in item.messages:
                        yield Raw(head, payload)
                    continue
                head, payload = item
                client.taken(payload)
                yield Raw(head, payload)
        finally:
            realtime.disconnect(client)

    async def on_post(self, req: Any, resp: Any) -> None:
        body = await read_body(req)
        body.close()
        client_id = body.data.get("clientId")
        subscriptions = body.data.get("subscriptions") or []
        if not isinstance(client_id, str) or not client_id:
            raise ApiError(400, "", {"clientId": FieldError("validation_required", "Cannot be blank.")})
        if not isinstance(subscriptions, list) or not all(isinstance(s, str) for s in subscriptions):
            raise ApiError(400)
        if len(subscriptions) > MAX_TOPICS:
            raise ApiError(400, "", {"subscriptions": _too_long(MAX_TOPICS)})
        too_long = [str(i) for i, s in enumerate(subscriptions) if len(s) > MAX_TOPIC_LENGTH]
        if too_long:
            raise ApiError(400, "", {"subscriptions": {i: _too_long(MAX_TOPIC_LENGTH) for i in too_long}})
        await self._app.state[REALTIME].subscribe(client_id, subscriptions, request_auth(req), real_ip(self._app, req))
        resp.status = 204


def _too_long(limit: int) -> FieldError:
    return FieldError("validation_length_too_long", f"The length must be no more than {limit}.")
