"""PocketBase's realtime API: ``GET /api/realtime`` (SSE) and ``POST /api/realtime``."""

from __future__ import annotations

import asyncio
import os
import time
import weakref
from collections.abc import AsyncIterator
from typing import Any

import orjson
from pbk_sdk import PluginInfo, Route, hookimpl, routes
from pbk_sdk import events as ev
from pbk_sdk.auth import RequestAuth, request_auth
from pbk_sdk.body import read_body
from pbk_sdk.errors import ApiError, FieldError, WorkerUnreachable
from pbk_sdk.events import RecordEvent
from pbk_sdk.interfaces import RealtimeMessage

from .broker import MemoryBroker, WorkersBroker
from .hub import PING, RECORD_CHANGES, Client, Hub, Topic, sse_head

PLUGIN = PluginInfo(name="realtime", requires=("records",), description="Server-Sent Events, rule-checked.")

#: PocketBase closes a stream after 5 minutes without a message (PBK_REALTIME_IDLE to change).
IDLE_SECONDS = float(os.environ.get("PBK_REALTIME_IDLE", "300"))
#: A comment line this often lets the server notice clients that went away.
PING_SECONDS = min(30.0, IDLE_SECONDS / 2)
#: A subscription posted to one worker for a stream another one holds travels on this channel.
SUBSCRIBE_CHANNEL = "realtime.subscribe"
MAX_TOPICS = 1000
MAX_TOPIC_LENGTH = 2500
ACTIONS = {
    ev.RECORD_AFTER_CREATE_SUCCESS: "create",
    ev.RECORD_AFTER_UPDATE_SUCCESS: "update",
    ev.RECORD_AFTER_DELETE_SUCCESS: "delete",
}


class Raw:
    """An SSE event framed by ``hub`` (falcon calls ``serialize``): the client's own lines and
    the payload shared with other clients, joined only when sent."""

    __slots__ = ("head", "payload")

    def __init__(self, head: bytes, payload: bytes) -> None:
        self.head = head
        self.payload = payload

    def serialize(self, handler: Any = None) -> bytes:
        return self.head + self.payload + b"\n\n"


class Realtime:
    def __init__(self, app: Any) -> None:
        self.app = app
        self.hub = Hub(app)
        self.broker: Any = None
        self._keep_alive_task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        name = os.environ.get("PBK_REALTIME_BROKER") or ("memory" if self.app.cluster.workers == 1 else "workers")
        self.app.cluster.on_message(SUBSCRIBE_CHANNEL, self._subscribe_here)
        self.broker = self.app.services.get("realtime_broker", name)
        self.broker.on_message(self.hub.deliver)
        for event_name, action in ACTIONS.items():
            self.app.events.on(event_name, self._publisher(action))
        self.app.events.on(ev.TERMINATE, self._end_streams)
        self._keep_alive_task = asyncio.create_task(self._keep_alive(), name="pbk-realtime-keep-alive")

    async def _keep_alive(self) -> None:
        """One timer for every stream (not one per stream and message): a ping to those without
        a message for PING_SECONDS, the end of those without one for IDLE_SECONDS."""
        while True:
            await asyncio.sleep(PING_SECONDS)
            now = time.monotonic()
            for client in list(self.hub.clients.values()):
                quiet = now - client.last_message
                if quiet > IDLE_SECONDS:
                    client.close()
                elif quiet >= PING_SECONDS:
                    client.ping()

    async def _end_streams(self, event: Any) -> None:
        """The server is shutting down: end every stream now (clients will reconnect)."""
        for client in list(self.hub.clients.values()):
            self.hub.remove(client)
        self._clients_changed()
        await event.next()

    async def stop(self) -> None:
        if self._keep_alive_task is not None:
            self._keep_alive_task.cancel()
            await asyncio.gather(self._keep_alive_task, return_exceptions=True)
        close = getattr(self.broker, "close", None)
        if close is not None:
            await close()

    def _publisher(self, action: str) -> Any:
        async def publish(event: RecordEvent) -> None:
            """After commit: hand the change to the broker and return (no fan-out here)."""
            if not self._anyone_listening():
                await event.next()
                return
            change = {"action": action, "collectionId": event.collection.id, "record": event.record}
            await self.broker.publish(RealtimeMessage(RECORD_CHANGES, orjson.dumps(change)))
            await event.next()

        return publish

    def _anyone_listening(self) -> bool:
        anyone_listening = getattr(self.broker, "anyone_listening", None)
        return anyone_listening is None or anyone_listening()

    def _clients_changed(self) -> None:
        clients_here = getattr(self.broker, "clients_here", None)
        if clients_here is not None:
            clients_here(len(self.hub.clients))

    # ------------------------------------------------------------------ HTTP

    async def on_get(self, req: Any, resp: Any) -> None:
        client = self.hub.connect(remote=req.remote_addr or "")
        self._clients_changed()
        resp.set_header("Cache-Control", "no-store")
        resp.set_header("X-Accel-Buffering", "no")
        resp.sse = self._stream(client)

    async def _stream(self, client: Client) -> AsyncIterator[Raw | None]:
        try:
            yield Raw(sse_head(client.id, "PB_CONNECT"), orjson.dumps({"clientId": client.id}))
            while True:
                item = await client.queue.get()
                if item is None:
                    return
                if item is PING:
                    yield None  # falcon sends a ": ping" comment, and notices a closed connection
                    continue
                head, payload = item
                client.taken(payload)
                client.last_message = time.monotonic()
                yield Raw(head, payload)
        finally:
            self.hub.remove(client)
            self._clients_changed()

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
            raise ApiError(400, "", {"subscriptions": FieldError("validation_length_too_long", f"The length must be no more than {MAX_TOPICS}.")})
        too_long = [str(i) for i, s in enumerate(subscriptions) if len(s) > MAX_TOPIC_LENGTH]
        if too_long:
            raise ApiError(400, "", {"subscriptions": {i: FieldError("validation_length_too_long", f"The length must be no more than {MAX_TOPIC_LENGTH}.") for i in too_long}})
        auth = request_auth(req)
        owner = self.hub.owner(client_id)
        if owner is None:
            self._subscribe(client_id, subscriptions, auth, req.remote_addr or "")
        else:
            await self._subscribe_there(owner, client_id, subscriptions, auth, req.remote_addr or "")
        resp.status = 204

    def _subscribe(self, client_id: str, subscriptions: list[str], auth: RequestAuth | None, remote: str) -> None:
        client = self.hub.client(client_id)
        new_key = (auth.collection_id, auth.id) if auth is not None else None
        if client.auth is not None and client.auth_key() != new_key:
            raise ApiError(403, "The current and the previous request authorization don't match.")
        if client.remote and remote and client.remote != remote:
            raise ApiError(400, "Invalid realtime client.")
        client.auth = auth
        client.topics = {raw: Topic.parse(raw) for raw in dict.fromkeys(subscriptions)}

    async def _subscribe_there(
        self, worker: int, client_id: str, subscriptions: list[str], auth: RequestAuth | None, remote: str
    ) -> None:
        """The stream is held by another worker: that one applies the subscription."""
        request = {
            "clientId": client_id,
            "subscriptions": subscriptions,
            "remote": remote,
            "auth": None if auth is None else [dict(auth.record), auth.collection_id, auth.collection_name],
        }
        try:
            answer = orjson.loads(await self.app.cluster.call(worker, SUBSCRIBE_CHANNEL, orjson.dumps(request, default=str)))
        except WorkerUnreachable as exc:
            raise ApiError(404, "Missing or invalid client id.") from exc
        if answer["status"] != 204:
            raise ApiError(answer["status"], answer["message"])

    async def _subscribe_here(self, worker: int, data: bytes) -> bytes:
        request = orjson.loads(data)
        auth = None if request["auth"] is None else RequestAuth(*request["auth"])
        try:
            self._subscribe(request["clientId"], request["subscriptions"], auth, request["remote"])
        except ApiError as error:
            return orjson.dumps({"status": error.status, "message": error.message})
        return orjson.dumps({"status": 204})


_instances: weakref.WeakKeyDictionary[Any, Realtime] = weakref.WeakKeyDictionary()


def realtime(app: Any) -> Realtime:
    if app not in _instances:
        _instances[app] = Realtime(app)
    return _instances[app]


@hookimpl
def pbk_register_realtime_brokers(app: Any) -> dict[str, Any]:
    return {"memory": lambda app: MemoryBroker(), "workers": lambda app: WorkersBroker(app.cluster)}


@hookimpl
def pbk_register_routes(app: Any) -> list[Route]:
    return [Route(routes.REALTIME, realtime(app))]


@hookimpl
async def pbk_startup(app: Any) -> None:
    await realtime(app).start()


@hookimpl
async def pbk_shutdown(app: Any) -> None:
    await realtime(app).stop()
