"""The realtime service of one app: its clients (the hub), the broker that carries messages
between processes (the workers of this node and the processes of the other nodes sharing its
database), the after-commit handlers that publish record changes, and subscriptions, applied by
whichever process holds the client's stream.

One per app, at ``app.state[REALTIME]``, built by ``pbk_startup`` (in each worker, never in
the supervisor); the HTTP side is ``resources.RealtimeResource``.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

import orjson
from pbk_sdk import events as ev
from pbk_sdk.auth import RequestAuth
from pbk_sdk.errors import ApiError, StartupError, WorkerUnreachable
from pbk_sdk.events import Event, RecordEvent
from pbk_sdk.interfaces import (
    REALTIME_BROKER,
    App,
    Cluster,
    CollectionInfo,
    RealtimeBroker,
    RealtimeMessage,
)
from pbk_sdk.state import StateKey

from .hub import RECORD_CHANGES, UNBIND, Client, Hub, Topic

#: PocketBase closes a stream after 5 minutes without a message.
IDLE_SECONDS = 300.0
#: The longest wait between two comment lines on a quiet stream.
MAX_PING_SECONDS = 30.0
#: A subscription posted to one process for a stream another one holds travels on this channel.
SUBSCRIBE_CHANNEL = "realtime.subscribe"
#: ``send_once`` to a client whose stream another process holds travels on this channel.
SEND_ONCE_CHANNEL = "realtime.send_once"
ACTIONS = {
    ev.RECORD_AFTER_CREATE_SUCCESS: "create",
    ev.RECORD_AFTER_UPDATE_SUCCESS: "update",
    ev.RECORD_AFTER_DELETE_SUCCESS: "delete",
}


@dataclass(frozen=True)
class RealtimeConfig:
    """The realtime knobs of one app, read from the environment when the app starts (never at
    import or build), so apps started with different values do not share them, and each
    worker of ``pbk serve --workers`` reads them itself. See docs/realtime.md."""

    #: ``PBK_REALTIME_IDLE``: seconds without a message before a stream is closed.
    idle_seconds: float = IDLE_SECONDS
    #: ``PBK_REALTIME_BROKER``: the broker provider; empty picks ``memory`` for a process
    #: alone and ``workers`` with several workers or nodes.
    broker: str = ""

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ) -> RealtimeConfig:
        return cls(
            idle_seconds=float(environ.get("PBK_REALTIME_IDLE", IDLE_SECONDS)),
            broker=environ.get("PBK_REALTIME_BROKER", ""),
        )

    @property
    def ping_seconds(self) -> float:
        """How often a quiet stream gets a comment line, so clients that went away are noticed."""
        return min(MAX_PING_SECONDS, self.idle_seconds / 2)


class Realtime:
    """This process's realtime clients and what reaches them, for one app."""

    def __init__(self, app: App, config: RealtimeConfig | None = None) -> None:
        self.app = app
        self.config = config or RealtimeConfig.from_environment()
        self.hub = Hub(app)
        self._broker: RealtimeBroker | None = None
        self._keep_alive_task: asyncio.Task[None] | None = None

    @property
    def broker(self) -> RealtimeBroker:
        if self._broker is None:
            raise RuntimeError("the realtime service is used before pbk_startup started it")
        return self._broker

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        cluster = self.app.cluster
        self.hub.shared = shared_with_others(cluster)
        name = self.config.broker or ("workers" if self.hub.shared else "memory")
        cluster.on_message(SUBSCRIBE_CHANNEL, self._subscribe_asked)
        cluster.on_message(SEND_ONCE_CHANNEL, self._send_once_asked)
        cluster.on_missed(self._end_every_stream)
        self._broker = checked(name, self.app.services.get(REALTIME_BROKER, name))
        self._broker.on_message(self.hub.deliver)
        for event_name, action in ACTIONS.items():
            self.app.events.on(event_name, self._publisher(action))
        self.app.events.on(ev.COLLECTION_AFTER_UPDATE_SUCCESS, self._unbind_if_secret_changed)
        self.app.events.on(ev.COLLECTION_AFTER_DELETE_SUCCESS, self._unbind_if_secret_changed)
        self.app.events.on(ev.TERMINATE, self._end_streams)
        self._keep_alive_task = asyncio.create_task(self._keep_alive(), name="pbk-realtime-keep-alive")

    async def stop(self) -> None:
        if self._keep_alive_task is not None:
            self._keep_alive_task.cancel()
            await asyncio.gather(self._keep_alive_task, return_exceptions=True)
        if self._broker is not None:
            await self._broker.close()

    async def _keep_alive(self) -> None:
        """One timer for every stream (not one per stream and message): a ping to those without
        a message for ``ping_seconds``, the end of those without one for ``idle_seconds``."""
        ping_seconds, idle_seconds = self.config.ping_seconds, self.config.idle_seconds
        while True:
            await asyncio.sleep(ping_seconds)
            now = time.monotonic()
            for client in list(self.hub.clients.values()):
                quiet = now - client.last_message
                if quiet > idle_seconds:
                    client.close()
                elif quiet >= ping_seconds:
                    client.ping()

    async def _end_streams(self, event: Event) -> None:
        """The server is shutting down: end every stream now (clients will reconnect)."""
        self._end_every_stream()
        await event.next()

    def _end_every_stream(self) -> None:
        """Also when messages from other nodes may have been missed (``on_missed``): the
        clients reconnect and subscribe again rather than go without events unknowingly."""
        for client in list(self.hub.clients.values()):
            self.hub.remove(client)
        self._clients_changed()

    # ------------------------------------------------------------------ clients

    def connect(self, remote: str) -> Client:
        """A new client whose stream this process holds."""
        client = self.hub.connect(remote)
        self._clients_changed()
        return client

    def disconnect(self, client: Client) -> None:
        self.hub.remove(client)
        self._clients_changed()

    def _clients_changed(self) -> None:
        if self._broker is not None:
            self._broker.clients_here(len(self.hub.clients))

    def _publisher(self, action: str) -> Callable[[RecordEvent], Awaitable[None]]:
        async def publish(event: RecordEvent) -> None:
            """After commit: hand the change to the broker and return (no fan-out here)."""
            if self.broker.anyone_listening():
                change = {"action": action, "collectionId": event.collection.id, "record": event.record}
                await self.broker.publish(RealtimeMessage(RECORD_CHANGES, orjson.dumps(change)))
            await event.next()

        return publish

    async def _unbind_if_secret_changed(self, event: ev.CollectionEvent) -> None:
        """A new auth token secret voids every token of the collection, as does deleting it:
        its clients, on every process, become guests."""
        collection, original = event.collection, event.original
        if (
            collection.type == "auth"
            and (original is None or _secret(original) != _secret(collection))
            and self.broker.anyone_listening()
        ):
            change = {"action": UNBIND, "collectionId": collection.id}
            await self.broker.publish(RealtimeMessage(RECORD_CHANGES, orjson.dumps(change)))
        await event.next()

    # ------------------------------------------------------------------ subscriptions

    async def subscribe(self, client_id: str, subscriptions: list[str], auth: RequestAuth | None, remote: str) -> None:
        """Set the client's topics (all of them: PocketBase replaces, never adds), on whichever
        process holds its stream. Raises ``ApiError`` 404 (no such client), 403 (another auth
        than the client's), 400 (another address)."""
        owner = self.hub.owner(client_id)
        if owner is None:
            self._subscribe_here(client_id, subscriptions, auth, remote)
        else:
            await self._subscribe_there(owner, client_id, subscriptions, auth, remote)

    def _subscribe_here(self, client_id: str, subscriptions: list[str], auth: RequestAuth | None, remote: str) -> None:
        client = self.hub.client(client_id)
        new_key = (auth.collection_id, auth.id) if auth is not None else None
        if client.auth is not None and client.auth_key() != new_key:
            raise ApiError(403, "The current and the previous request authorization don't match.")
        if client.remote and remote and client.remote != remote:
            raise ApiError(400, "Invalid realtime client.")
        client.auth = auth
        client.topics = {raw: Topic.parse(raw) for raw in dict.fromkeys(subscriptions)}

    async def _subscribe_there(
        self, member: int, client_id: str, subscriptions: list[str], auth: RequestAuth | None, remote: str
    ) -> None:
        """The stream is held by another process: that one applies the subscription."""
        request = {
            "clientId": client_id,
            "subscriptions": subscriptions,
            "remote": remote,
            "auth": None if auth is None else [dict(auth.record), auth.collection_id, auth.collection_name],
        }
        try:
            answer = orjson.loads(
                await self.app.cluster.call_member(member, SUBSCRIBE_CHANNEL, orjson.dumps(request, default=str))
            )
        except WorkerUnreachable as exc:
            raise ApiError(404, "Missing or invalid client id.") from exc
        if answer["status"] != 204:
            raise ApiError(answer["status"], answer["message"])

    async def _subscribe_asked(self, worker: int, data: bytes) -> bytes:
        """Another process's ``_subscribe_there``: apply it here and answer its status."""
        request = orjson.loads(data)
        auth = None if request["auth"] is None else RequestAuth(*request["auth"])
        try:
            self._subscribe_here(request["clientId"], request["subscriptions"], auth, request["remote"])
        except ApiError as error:
            return orjson.dumps({"status": error.status, "message": error.message})
        return orjson.dumps({"status": 204})


    # ------------------------------------------------------------------ one client

    async def send_once(self, client_id: str, topic: str, data: bytes, *, remote: str) -> bool:
        """``pbk_sdk.interfaces.RealtimeClients.send_once``, on whichever process holds the
        client's stream."""
        owner = self.hub.owner(client_id)
        if owner is None:
            return self._send_once_here(client_id, topic, data, remote)
        request = {"clientId": client_id, "topic": topic, "data": data.decode(), "remote": remote}
        try:
            return await self.app.cluster.call_member(owner, SEND_ONCE_CHANNEL, orjson.dumps(request)) == b"1"
        except WorkerUnreachable:
            return False

    def _send_once_here(self, client_id: str, topic: str, data: bytes, remote: str) -> bool:
        """The subscription is dropped once the client is found, also when its address then
        differs (as PocketBase does): a wrong-address attempt leaves no topic to retry on."""
        client = self.hub.clients.get(client_id)
        if client is None or client.closed or client.topics.pop(topic, None) is None:
            return False
        if client.remote and remote and client.remote != remote:
            return False
        client.send(topic, data)
        return True

    async def _send_once_asked(self, worker: int, data: bytes) -> bytes:
        request = orjson.loads(data)
        sent = self._send_once_here(request["clientId"], request["topic"], request["data"].encode(),
                                    request["remote"])
        return b"1" if sent else b"0"


def shared_with_others(cluster: Cluster) -> bool:
    """Whether other processes may hold clients: this node's other workers, or the processes of
    other nodes on its database (a node with a cluster backend has a node id; nodes come and
    go, so this holds even while it runs alone)."""
    member = cluster.members().get(cluster.member)
    return cluster.workers > 1 or (member is not None and bool(member.node))


#: What the plugin calls on a broker.
BROKER_METHODS = ("publish", "on_message", "clients_here", "anyone_listening", "close")

def checked(name: str, broker: RealtimeBroker) -> RealtimeBroker:
    """``broker`` if it has every ``RealtimeBroker`` method, else a ``StartupError`` naming the
    missing ones (a broker subclassing ``RealtimeBroker`` inherits the optional ones)."""
    missing = [method for method in BROKER_METHODS if not callable(getattr(broker, method, None))]
    if missing:
        raise StartupError(
            f"realtime broker {name!r} lacks {', '.join(missing)}: subclass pbk_sdk.interfaces.RealtimeBroker"
        )
    return broker


#: The realtime service of an app, set by ``pbk_startup`` (no factory: building it at first read
#: could happen in the supervisor of ``pbk serve --workers`` and be copied into every worker).
REALTIME: StateKey[Realtime] = StateKey("realtime")


def _secret(collection: CollectionInfo) -> object:
    return (collection.options.get("authToken") or {}).get("secret")
