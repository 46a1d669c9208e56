"""Realtime brokers: ``memory`` (one process) and ``workers`` (every process of
``app.cluster``: the workers of ``pbk serve --workers`` and, on a shared PostgreSQL database,
those of the other nodes). Publish returns at once; one task delivers in order, across this
node's workers too.

Another plugin can offer a broker of its own (Redis, NATS) through
``pbk_register_realtime_brokers``; the realtime plugin only publishes and receives.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

import orjson
from pbk_sdk.interfaces import ANOTHER_NODE, Cluster, RealtimeMessage

log = logging.getLogger(__name__)

Receiver = Callable[[RealtimeMessage], Awaitable[None]]
#: How long a worker holds messages for an earlier one that has not arrived: far longer than
#: any relay takes, short enough that a worker that died between numbering and sending a
#: message delays the next ones by no more than this.
GAP_SECONDS = 1.0


class MemoryBroker:
    """The messages of one process, delivered in publish order by one task."""

    def __init__(self) -> None:
        self._receivers: list[Receiver] = []
        self._clients_here = 0
        self._queue: asyncio.Queue[RealtimeMessage] | None = None
        self._task: asyncio.Task[None] | None = None

    def on_message(self, receiver: Receiver) -> None:
        self._receivers.append(receiver)

    def clients_here(self, count: int) -> None:
        self._clients_here = count

    def anyone_listening(self) -> bool:
        return self._clients_here > 0

    async def publish(self, message: RealtimeMessage) -> None:
        """Queue ``message``; never waits for the delivery (a write must not wait on fan-out)."""
        self._enqueue(message)

    def _enqueue(self, message: RealtimeMessage) -> None:
        if self._queue is None:
            self._queue = asyncio.Queue()
            self._task = asyncio.create_task(self._deliver(), name="pbk-realtime-broker")
        self._queue.put_nowait(message)

    async def _deliver(self) -> None:
        assert self._queue is not None
        while True:
            message = await self._queue.get()
            for receiver in self._receivers:
                try:
                    await receiver(message)
                except Exception:
                    log.exception("realtime receiver failed on %s", message.topic)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass


class WorkersBroker(MemoryBroker):
    """Each message goes to this process's clients and, once, to every other process's (of
    this node and of the others, through ``app.cluster.broadcast``): the process that made a
    change publishes it, every process delivers it to the clients it holds, so each subscriber
    gets it exactly once whichever process holds its stream.

    Messages are numbered from ``app.cluster.sequence`` (this node's) when published, and a
    worker with clients delivers this node's in that order. Without it a change relayed from
    another worker could be overtaken by a later change made here (a client that updates a
    record, then deletes another, its two requests served by two workers, would see the delete
    first): a local publish is quicker than the relay through the supervisor. Another node's
    numbers mean nothing here: its messages are delivered as they arrive (the database delivers
    them in one order to every node).
    """

    CHANNEL = "realtime"

    def __init__(self, cluster: Cluster) -> None:
        super().__init__()
        self._cluster = cluster
        self._next = 0  # the number to deliver next, while this worker holds clients
        self._early: dict[int, RealtimeMessage] = {}
        self._gap_timer: asyncio.TimerHandle | None = None
        self._gap_at = 0  # the missing number the timer waits for
        cluster.on_message(self.CHANNEL, self._received)
        cluster.want(self.CHANNEL, False)  # until this worker holds a client

    def clients_here(self, count: int) -> None:
        if count and not self._clients_here:
            self._cluster.want(self.CHANNEL, True)
            # After want(): every number taken from now on is also sent here.
            self._next = self._cluster.sequence.last() + 1
        elif not count and self._clients_here:
            self._cluster.want(self.CHANNEL, False)
            self._deliver_early(None)
        super().clients_here(count)

    def anyone_listening(self) -> bool:
        return super().anyone_listening() or self._cluster.wanted(self.CHANNEL)

    async def publish(self, message: RealtimeMessage) -> None:
        number = self._cluster.sequence.take()
        self._arrived(number, message)
        head = orjson.dumps([message.topic, message.client_id, number])
        self._cluster.broadcast(self.CHANNEL, head + b"\n" + message.data)

    async def _received(self, sender: int, data: bytes) -> None:
        head, _, payload = data.partition(b"\n")
        topic, client_id, number = orjson.loads(head)
        message = RealtimeMessage(topic, payload, client_id)
        if sender == ANOTHER_NODE:
            self._enqueue(message)
        else:
            self._arrived(number, message)

    def _arrived(self, number: int, message: RealtimeMessage) -> None:
        if not self._clients_here or number < self._next:
            # Nobody here to keep an order for, or a change made before they came.
            self._enqueue(message)
            return
        self._early[number] = message
        self._deliver_early(self._next)

    def _deliver_early(self, until_gap: int | None) -> None:
        """Deliver the held messages from ``until_gap`` on up to the first missing number (all
        of them for ``None``); wait ``GAP_SECONDS`` for a missing one."""
        if until_gap is None:
            for number in sorted(self._early):
                self._enqueue(self._early.pop(number))
        else:
            self._next = until_gap
            while self._next in self._early:
                self._enqueue(self._early.pop(self._next))
                self._next += 1
        waiting = self._gap_timer is not None and self._gap_at == self._next
        if self._gap_timer is not None and not (self._early and waiting):
            self._gap_timer.cancel()
            self._gap_timer = None
        if self._early and not waiting:
            self._gap_at = self._next
            self._gap_timer = asyncio.get_running_loop().call_later(GAP_SECONDS, self._skip_gap)

    def _skip_gap(self) -> None:
        """A worker took a number and never sent its message (it died in between)."""
        self._gap_timer = None
        log.warning("realtime message %d never arrived; delivering the later ones", self._next)
        self._deliver_early(min(self._early))
