"""The processes of the other nodes: ``app.cluster`` across several ``pbk serve`` on one database.

A storage whose database every node shares offers a ``ClusterBackend`` (``pbk_sdk.interfaces``;
PostgreSQL's runs over LISTEN/NOTIFY and advisory locks). Each worker process joins it as a
*member* after the fork. This module speaks the kernel's few messages over it:

- ``changed()`` tells every process of the other nodes to reload before its next request. Made
  while handling an HTTP request, the response waits (``settle``, called by the ASGI wrapper
  before ``http.response.start``) until each of them acknowledged it, at most ``SETTLE_SECONDS``:
  a member that stays silent is asked about (``alive``); a dead one is not waited for.
- ``want()`` tells the others which broadcast channels this process wants (the whole set, each
  time it changes; a newly joined member says hello with its set and everyone answers with
  theirs), so ``broadcast`` goes over the database only when another node wants it. A yes made
  during a request settles as ``changed()`` does.
- broadcasts, calls and their replies, for the plugins' channels. A handler gets them with
  ``from_worker == ANOTHER_NODE``; broadcasts reach handlers one at a time, in delivery order.

Every member receives every message of the cluster; the ones a process of this node sent are
dropped here, as this node's workers hear each other through the supervisor's link already.
"""

from __future__ import annotations

import asyncio
import contextvars
import itertools
import logging
import socket
import struct
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from pbk_sdk.errors import WorkerUnreachable
from pbk_sdk.interfaces import ANOTHER_NODE, ClusterBackend, Member

if TYPE_CHECKING:
    from .cluster import Cluster

log = logging.getLogger(__name__)

#: The longest a response waits for the other nodes to take note of a change.
SETTLE_SECONDS = 5.0
#: How long a silent member may take before the database is asked whether it is alive.
ALIVE_CHECK_SECONDS = 0.5
#: How long leaving waits for the messages still queued to go out.
FLUSH_SECONDS = 2.0

#: Message kinds: the first character of the backend's channel (a plugin's channel follows).
BROADCAST, CALL, REPLY, STALE, WANTS, ACK = "b", "c", "r", "s", "w", "a"
ACK_ID = struct.Struct("!Q")
CALL_ID = struct.Struct("!IB")  # call id, and in a reply whether it was answered

#: The acknowledgements the current request's response waits for (set by ``settling``).
_settling: contextvars.ContextVar[list[Acks] | None] = contextvars.ContextVar("pbk_settling", default=None)


class Acks:
    """The members of other nodes that have yet to acknowledge one message."""

    def __init__(self, ack_id: int, expected: dict[int, Member]) -> None:
        self.id = ack_id
        self.expected = expected
        self.done = asyncio.Event()
        self.sent = time.monotonic()

    def received(self, number: int) -> None:
        self.expected.pop(number, None)
        if not self.expected:
            self.done.set()


class Nodes:
    """This process as a member of the cluster; ``Cluster`` delegates to it when it joined."""

    def __init__(self, cluster: Cluster, backend: ClusterBackend) -> None:
        self.cluster = cluster
        self.backend = backend
        self._remote_wants: dict[int, frozenset[str]] = {}
        self._acks: dict[int, Acks] = {}
        self._ack_ids = itertools.count(1)
        self._calls: dict[int, asyncio.Future[bytes]] = {}
        self._call_ids = itertools.count(1)
        self._inbox: asyncio.Queue[tuple[str, bytes]] = asyncio.Queue()
        self._worker_task: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[Any]] = set()

    async def join(self, data_dir: str) -> None:
        self._worker_task = asyncio.create_task(self._deliver(), name="pbk-cluster-nodes")
        await self.backend.join(self.cluster.node, self.cluster.worker, socket.gethostname(), data_dir,
                                self._receive, self._lost)
        self._say_wants(hello=True)

    async def leave(self) -> None:
        try:
            await asyncio.wait_for(self.backend.flush(), FLUSH_SECONDS)
        except TimeoutError:
            log.warning("leaving the cluster with messages unsent")
        await self.backend.leave()
        if self._worker_task is not None:
            self._worker_task.cancel()
            await asyncio.gather(self._worker_task, return_exceptions=True)

    # ------------------------------------------------------------------ state

    def members(self) -> Mapping[int, Member]:
        return self.backend.members()

    def _other_nodes(self) -> dict[int, Member]:
        node = self.cluster.node
        return {number: member for number, member in self.backend.members().items() if member.node != node}

    def changed(self) -> None:
        self.backend.send(None, STALE, ACK_ID.pack(self._ack_id_for_request()))

    def wants_changed(self, added: bool) -> None:
        self._say_wants(ack_id=self._ack_id_for_request() if added else 0)

    def wanted(self, channel: str) -> bool:
        members = self.backend.members()
        node = self.cluster.node
        for number, channels in self._remote_wants.items():
            if channel in channels:
                member = members.get(number)
                if member is not None and member.node != node:
                    return True
        return False

    def _say_wants(self, *, ack_id: int = 0, hello: bool = False, to: int | None = None) -> None:
        channels = "\n".join(sorted(self.cluster.wants)).encode()
        self.backend.send(to, WANTS, ACK_ID.pack(ack_id) + (b"h" if hello else b"-") + channels)

    # ------------------------------------------------------------------ settling

    def _ack_id_for_request(self) -> int:
        """A new acknowledgement id the current request's response waits for (0 outside a
        request, or with nobody to wait for: nothing is acknowledged then)."""
        pending = _settling.get()
        if pending is None:
            return 0
        expected = self._other_nodes()
        if not expected:
            return 0
        # Acknowledgements nobody waits for (a change made after its response started) go.
        for stale in [a for a in self._acks.values() if time.monotonic() - a.sent > 2 * SETTLE_SECONDS]:
            del self._acks[stale.id]
        acks = Acks(next(self._ack_ids), expected)
        self._acks[acks.id] = acks
        pending.append(acks)
        return acks.id

    def settling(self, send: Callable[[dict[str, Any]], Any]) -> Callable[[dict[str, Any]], Any]:
        """``send`` of an ASGI request that first waits for what the request changed to be
        acknowledged by the other nodes; the request's changes are collected from now on."""
        pending: list[Acks] = []
        _settling.set(pending)

        async def send_settled(message: dict[str, Any]) -> None:
            if pending and message["type"] == "http.response.start":
                await self.settle(pending)
            await send(message)

        return send_settled

    async def settle(self, pending: list[Acks]) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + SETTLE_SECONDS
        try:
            for acks in pending:
                while not acks.done.is_set():
                    left = deadline - loop.time()
                    if left <= 0:
                        log.warning("cluster members %s did not acknowledge a change within %ss; answering anyway",
                                    sorted(acks.expected), SETTLE_SECONDS)
                        return
                    try:
                        await asyncio.wait_for(acks.done.wait(), min(left, ALIVE_CHECK_SECONDS))
                    except TimeoutError:
                        await self._forget_dead(acks)
        finally:
            for acks in pending:
                self._acks.pop(acks.id, None)
            pending.clear()

    async def _forget_dead(self, acks: Acks) -> None:
        members = self.backend.members()
        for number, member in list(acks.expected.items()):
            try:
                gone = members.get(number) != member or not await self.backend.alive(number)
            except Exception as exc:  # noqa: BLE001 - the database out of reach: wait on, to the deadline
                log.debug("could not ask whether cluster member %d is alive: %s", number, exc)
                return
            if gone:
                acks.received(number)

    # ------------------------------------------------------------------ messages

    def broadcast(self, channel: str, data: bytes) -> None:
        if self.wanted(channel):
            self.backend.send(None, BROADCAST + channel, data)

    async def call(self, number: int, channel: str, data: bytes, timeout: float) -> bytes:
        call_id = next(self._call_ids) & 0xFFFFFFFF
        future: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        self._calls[call_id] = future
        try:
            self.backend.send(number, CALL + channel, CALL_ID.pack(call_id, 0) + data)
            return await asyncio.wait_for(future, timeout)
        except TimeoutError as exc:
            raise WorkerUnreachable(f"cluster member {number} did not answer within {timeout}s") from exc
        finally:
            self._calls.pop(call_id, None)

    def _receive(self, sender: int, channel: str, data: bytes) -> None:
        """The backend's ``receive``: control messages at once, plugins' ones in order."""
        member = self.backend.members().get(sender)
        if member is not None and member.node == self.cluster.node:
            return  # a worker of this node: its news came through the link
        kind, name = channel[:1], channel[1:]
        if kind == BROADCAST:
            self._inbox.put_nowait((name, data))
        elif kind == STALE:
            self.cluster.mark_stale()
            self._acknowledge(sender, data)
        elif kind == WANTS:
            hello, channels = data[ACK_ID.size : ACK_ID.size + 1] == b"h", data[ACK_ID.size + 1 :]
            self._remote_wants[sender] = frozenset(channels.decode().split("\n")) - {""}
            if hello:
                self._say_wants(to=sender)
            self._acknowledge(sender, data)
        elif kind == ACK:
            acks = self._acks.get(ACK_ID.unpack_from(data)[0])
            if acks is not None:
                acks.received(sender)
                if acks.done.is_set():
                    del self._acks[acks.id]
        elif kind == CALL:
            task = asyncio.create_task(self._reply(sender, name, data))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        elif kind == REPLY:
            call_id, answered = CALL_ID.unpack_from(data)
            future = self._calls.get(call_id)
            if future is not None and not future.done():
                if answered:
                    future.set_result(data[CALL_ID.size :])
                else:
                    future.set_exception(WorkerUnreachable(f"cluster member {sender} could not answer"))

    def _acknowledge(self, sender: int, data: bytes) -> None:
        (ack_id,) = ACK_ID.unpack_from(data)
        if ack_id:
            self.backend.send(sender, ACK, ACK_ID.pack(ack_id))

    async def _deliver(self) -> None:
        while True:
            channel, data = await self._inbox.get()
            handler = self.cluster.handler(channel)
            if handler is None:
                continue
            try:
                await handler(ANOTHER_NODE, data)
            except Exception:
                log.exception("cluster message on %r from another node failed", channel)

    async def _reply(self, sender: int, channel: str, data: bytes) -> None:
        (call_id, _) = CALL_ID.unpack_from(data)
        try:
            answer = await self.cluster.answer(ANOTHER_NODE, channel, data[CALL_ID.size :])
        except Exception:
            log.exception("cluster call on %r from another node failed", channel)
            self.backend.send(sender, REPLY, CALL_ID.pack(call_id, 0))
            return
        self.backend.send(sender, REPLY, CALL_ID.pack(call_id, 1) + answer)

    def _lost(self) -> None:
        """Messages may have been missed: reload everything, ask every member's wants again."""
        log.warning("the connection to the other nodes was lost for a while; reloading everything")
        self._remote_wants.clear()
        self.cluster.mark_stale()
        self._say_wants(hello=True)
        self.cluster.missed()
