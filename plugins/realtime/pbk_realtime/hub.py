"""Realtime clients, their subscriptions, and the fan-out of messages to them.

Every message reaches the hub through the broker, one at a time, so clients see record
events in commit order. A record event is checked once per group of subscribers that would
see the same thing (same auth, same kind of topic, same options) and serialised once per group;
each client only gets its own ``id:``/``event:`` lines around the shared payload.

Slow clients: each client has a queue bounded in deliveries and in bytes (the payload of an
event is shared by every client that gets it, never copied per client). A change that matches
several of one client's subscriptions is one delivery (a ``Batch``), and a payload its messages
share counts once toward the bytes, so a client with many matching subscriptions gets every
message as PocketBase sends them. A client past either bound is disconnected (its stream ends);
PocketBase's SDKs reconnect and subscribe again, so a stuck client costs the others nothing and
loses only the events it could not take.
"""

from __future__ import annotations

import asyncio
import collections
import functools
import logging
import string
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

import orjson
from pbk_sdk.auth import RequestAuth
from pbk_sdk.errors import ApiError
from pbk_sdk.events import REALTIME_MESSAGE_SEND, RealtimeMessageEvent
from pbk_sdk.ids import new_id
from pbk_sdk.interfaces import RECORD_STORE, App, CollectionInfo, RealtimeMessage, RecordStore
from pbk_sdk.picker import apply_fields

log = logging.getLogger(__name__)

CLIENT_ID_ALPHABET = string.ascii_letters + string.digits
CLIENT_ID_LENGTH = 40
QUEUE_SIZE = 500
QUEUE_BYTES = 16 << 20
#: The topic record changes travel under between processes (never a client's topic).
RECORD_CHANGES = "@pbk/records"
#: The ``action`` of a ``RECORD_CHANGES`` message that makes every client bound to a record of
#: ``collectionId`` a guest.
UNBIND = "unbind"
#: Queued for a stream to send a ": ping" comment (compared by identity).
PING: tuple[bytes, bytes] = (b"", b"")


def new_client_id(prefix: str = "") -> str:
    return prefix + new_id(CLIENT_ID_LENGTH - len(prefix), CLIENT_ID_ALPHABET)


def member_prefix(member: int) -> str:
    """Across processes a client id starts with its process's number (``app.cluster.member``)
    in two characters, so a subscription posted to any process of any node reaches the one
    holding the stream."""
    high, low = divmod(member, len(CLIENT_ID_ALPHABET))
    return CLIENT_ID_ALPHABET[high] + CLIENT_ID_ALPHABET[low]


def member_of(client_id: str) -> int | None:
    try:
        high, low = (CLIENT_ID_ALPHABET.index(c) for c in client_id[:2])
    except ValueError:
        return None
    return high * len(CLIENT_ID_ALPHABET) + low


def sse_head(client_id: str, event: str) -> bytes:
    """The lines before an event's data, in PocketBase's exact framing (no space after the
    colons); the data that follows is shared between clients."""
    return b"id:" + client_id.encode() + b"\nevent:" + event.encode() + b"\ndata:"


@dataclass(frozen=True)
class Topic:
    """A parsed subscription: ``posts/*``, ``posts`` or ``posts/RECORD_ID``, with options."""

    raw: str
    collection: str
    record_id: str | None
    query: Mapping[str, str]
    headers: Mapping[str, str]

    @classmethod
    def parse(cls, raw: str) -> Topic:
        path, _, options_raw = raw.partition("?")
        collection, _, record_id = path.partition("/")
        query: dict[str, str] = {}
        headers: dict[str, str] = {}
        if options_raw:
            options = parse_qs(options_raw).get("options", [""])[-1]
            try:
                parsed = orjson.loads(options) if options else {}
            except orjson.JSONDecodeError:
                parsed = {}
            if isinstance(parsed, dict):
                query = {str(k): str(v) for k, v in (parsed.get("query") or {}).items()} if isinstance(parsed.get("query"), dict) else {}
                headers = {str(k).lower().replace("-", "_"): str(v) for k, v in (parsed.get("headers") or {}).items()} if isinstance(parsed.get("headers"), dict) else {}
        return cls(raw, collection, None if record_id in ("", "*") else record_id, query, headers)

    @functools.cached_property
    def group_key(self) -> tuple[Any, ...]:
        """What subscribers share an event's payload on: the kind of topic and the options."""
        return (self.record_id is None, tuple(sorted(self.query.items())), tuple(sorted(self.headers.items())))


class Batch:
    """The messages one change brings one client (it matched several of its subscriptions):
    one slot in its queue, and ``size`` counts every head but a shared payload once."""

    __slots__ = ("messages", "size")

    def __init__(self, messages: list[tuple[bytes, bytes]]) -> None:
        self.messages = messages
        distinct_payloads = {id(payload): len(payload) for _, payload in messages}
        self.size = sum(len(head) for head, _ in messages) + sum(distinct_payloads.values())


class Mailbox:
    """A stream's queue: what ``asyncio.Queue`` does here, at a fraction of the cost per item
    (a fan-out puts one item into every subscriber's mailbox)."""

    __slots__ = ("items", "waiter")

    def __init__(self) -> None:
        self.items: collections.deque[tuple[bytes, bytes] | Batch | None] = collections.deque()
        self.waiter: asyncio.Future[None] | None = None

    def put(self, item: tuple[bytes, bytes] | Batch | None) -> None:
        self.items.append(item)
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def get(self) -> tuple[bytes, bytes] | Batch | None:
        while not self.items:
            self.waiter = asyncio.get_running_loop().create_future()
            try:
                await self.waiter
            finally:
                self.waiter = None
        return self.items.popleft()

    def __len__(self) -> int:
        return len(self.items)


@dataclass(eq=False)
class Client:
    id: str
    remote: str
    auth: RequestAuth | None = None
    topics: dict[str, Topic] = field(default_factory=dict)
    queue: Mailbox = field(default_factory=Mailbox)
    queued_bytes: int = 0
    last_message: float = field(default_factory=time.monotonic)
    closed: bool = False

    def send(self, event: str, payload: bytes) -> None:
        """Queue an event; a client that cannot keep up is disconnected."""
        if self._room_for(len(payload)):
            self.queue.put((sse_head(self.id, event), payload))
            self.queued_bytes += len(payload)

    def send_all(self, messages: list[tuple[str, bytes]]) -> None:
        """Queue the events one change brings this client as one delivery."""
        if len(messages) == 1:
            self.send(*messages[0])
            return
        batch = Batch([(sse_head(self.id, event), payload) for event, payload in messages])
        if self._room_for(batch.size):
            self.queue.put(batch)
            self.queued_bytes += batch.size

    def _room_for(self, size: int) -> bool:
        """Whether one more delivery of ``size`` bytes fits; a client past a bound is closed."""
        if self.closed:
            return False
        if self.queued_bytes + size > QUEUE_BYTES:
            log.warning("realtime client %s fell %d bytes behind; disconnecting it", self.id, QUEUE_BYTES)
            self.close()
            return False
        if len(self.queue) >= QUEUE_SIZE:
            log.warning("realtime client %s fell %d messages behind; disconnecting it", self.id, QUEUE_SIZE)
            self.close()
            return False
        return True

    def ping(self) -> None:
        """Have the stream send a comment line, so a client that went away is noticed."""
        if not self.closed and not self.queue:
            self.queue.put(PING)

    def taken(self, payload: bytes) -> None:
        """The stream took ``payload`` off the queue."""
        self.queued_bytes -= len(payload)

    def taken_batch(self, batch: Batch) -> None:
        """The stream took ``batch`` off the queue."""
        self.queued_bytes -= batch.size

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.queue.items.clear()
            self.queue.put(None)

    def auth_key(self) -> tuple[str, str] | None:
        return (self.auth.collection_id, self.auth.id) if self.auth is not None else None


class Hub:
    """All realtime clients of this process."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.clients: dict[str, Client] = {}
        #: Whether other processes hold clients too (set by the service when it starts): then
        #: client ids carry their process's number.
        self.shared = False

    def store(self) -> RecordStore:
        return self.app.services.get(RECORD_STORE, "sqlite")

    def connect(self, remote: str) -> Client:
        prefix = member_prefix(self.app.cluster.member) if self.shared else ""
        client = Client(id=new_client_id(prefix), remote=remote)
        self.clients[client.id] = client
        return client

    def remove(self, client: Client) -> None:
        client.close()
        self.clients.pop(client.id, None)

    def owner(self, client_id: str) -> int | None:
        """The other process (``app.cluster`` member, of this node or another) that holds
        ``client_id``'s stream, or None when it is this one's."""
        if not self.shared or len(client_id) != CLIENT_ID_LENGTH:
            return None
        member = member_of(client_id)
        return member if member is not None and member != self.app.cluster.member else None

    def client(self, client_id: str) -> Client:
        client = self.clients.get(client_id)
        if client is None or client.closed:
            raise ApiError(404, "Missing or invalid client id.")
        return client

    # ------------------------------------------------------------------ delivery

    async def deliver(self, message: RealtimeMessage) -> None:
        """Called by the broker for every message, in publish order."""
        try:
            if message.topic == RECORD_CHANGES:
                await self._record_change(orjson.loads(message.data))
            elif message.client_id is not None:
                client = self.clients.get(message.client_id)
                if client is not None:
                    await self._send(client, [(message.topic, message.data)])
            else:
                for client in list(self.clients.values()):
                    if message.topic in client.topics:
                        await self._send(client, [(message.topic, message.data)])
        except Exception:
            log.exception("realtime delivery of %s failed", message.topic)

    async def _record_change(self, change: dict[str, Any]) -> None:
        if change["action"] == UNBIND:
            self._unbind_collection(change["collectionId"])
            return
        await self.app.cluster.sync()  # the change may be another process's, in a new collection
        store = self.store()
        collection = store.collection(change["collectionId"])
        if collection is None:
            return
        values: dict[str, Any] = change["record"]
        if collection.type == "auth":
            self._refresh_bound_auth(collection, values, change["action"])
        names = {collection.id, collection.name.lower()}
        groups: dict[tuple[Any, ...], list[tuple[Client, Topic]]] = {}
        for client in list(self.clients.values()):
            for topic in client.topics.values():
                if topic.collection not in names and topic.collection.lower() not in names:
                    continue
                if topic.record_id is not None and topic.record_id != values.get("id"):
                    continue
                groups.setdefault((client.auth_key(), topic.group_key), []).append((client, topic))
        if not groups:
            return
        payloads = await asyncio.gather(
            *(self._payload(store, collection, change, members[0][0].auth, members[0][1]) for members in groups.values())
        )
        shared: dict[bytes, bytes] = {}  # equal payloads of different groups become one object
        deliveries: dict[Client, list[tuple[str, bytes]]] = {}
        for members, payload in zip(groups.values(), payloads, strict=True):
            if payload is None:
                continue
            payload = shared.setdefault(payload, payload)
            for client, topic in members:
                deliveries.setdefault(client, []).append((topic.raw, payload))
        for client, messages in deliveries.items():
            await self._send(client, messages)

    async def _send(self, client: Client, messages: list[tuple[str, bytes]]) -> None:
        """Queue ``messages`` for ``client``, each through ``realtime_message_send`` when a
        handler listens."""
        events = self.app.events
        if not events.has(REALTIME_MESSAGE_SEND):
            client.send_all(messages)
            return
        kept: list[tuple[str, bytes]] = []

        async def keep(event: RealtimeMessageEvent) -> None:
            kept.append((event.name, event.data))

        for name, data in messages:
            event = RealtimeMessageEvent(client_id=client.id, auth=client.auth, name=name, data=data)
            try:
                await events.trigger(REALTIME_MESSAGE_SEND, event, keep)
            except Exception:  # this client misses this message; the others get theirs
                log.exception("a realtime_message_send handler failed for client %s", client.id)
        if kept:
            client.send_all(kept)

    def _refresh_bound_auth(self, collection: CollectionInfo, values: dict[str, Any], action: str) -> None:
        """Clients bound to this auth record see it as it is now; deleted, or with a new
        ``tokenKey`` (its tokens void), they become guests, as in PocketBase."""
        key = (collection.id, values.get("id"))
        for client in self.clients.values():
            if client.auth is not None and client.auth_key() == key:
                void = action == "delete" or values.get("tokenKey") != client.auth.record.get("tokenKey")
                client.auth = (
                    None if void
                    else RequestAuth(record=values, collection_id=collection.id, collection_name=collection.name)
                )

    def _unbind_collection(self, collection_id: str) -> None:
        """The collection's token secret changed or it was deleted: its clients become guests."""
        for client in self.clients.values():
            if client.auth is not None and client.auth.collection_id == collection_id:
                client.auth = None

    async def _payload(
        self, store: RecordStore, collection: CollectionInfo, change: dict[str, Any], auth: RequestAuth | None, topic: Topic
    ) -> bytes | None:
        """The event's data for this group of subscribers, or None if they may not see it."""
        values = change["record"]
        if auth is None or not auth.is_superuser:
            rule = collection.rule("listRule" if topic.record_id is None else "viewRule")
            if rule is None:
                return None
            if rule.strip() and not await store.matches_rule(
                collection, values["id"], rule, auth, context="realtime", values=values,
                query=topic.query, headers=topic.headers,
            ):
                return None
        extra_filter = topic.query.get("filter", "")
        if extra_filter.strip() and not await store.matches_rule(
            collection, values["id"], extra_filter, auth, context="realtime", values=values,
            query=topic.query, headers=topic.headers, trusted=False,
        ):
            return None
        expand = [part.strip() for part in topic.query.get("expand", "").split(",") if part.strip()]
        record = await store.present(collection, values, auth, expand=expand)
        if topic.query.get("fields"):
            try:
                record = apply_fields(record, topic.query["fields"])
            except ApiError:
                return None
        return orjson.dumps({"record": record, "action": change["action"]})

