"""Realtime brokers: ``memory`` (one process) and ``workers`` (every worker of
``pbk serve --workers``). Publish returns at once; one task delivers in order.

Another plugin can offer a broker across machines (Redis, NATS, PostgreSQL LISTEN) through
``pbk_register_realtime_brokers``; the realtime plugin only publishes and receives.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

import orjson
from pbk_sdk.interfaces import Cluster, RealtimeMessage

log = logging.getLogger(__name__)

Receiver = Callable[[RealtimeMessage], Awaitable[None]]


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
    """Each message goes to this worker's clients and, once, to every other worker's: the
    worker that made a change publishes it, every worker delivers it to the clients it holds,
    so each subscriber gets it exactly once whichever worker holds its stream."""

    CHANNEL = "realtime"

    def __init__(self, cluster: Cluster) -> None:
        super().__init__()
        self._cluster = cluster
        cluster.on_message(self.CHANNEL, self._received)
        cluster.want(self.CHANNEL, False)  # until this worker holds a client

    def clients_here(self, count: int) -> None:
        super().clients_here(count)
        self._cluster.want(self.CHANNEL, count > 0)

    def anyone_listening(self) -> bool:
        return super().anyone_listening() or self._cluster.wanted(self.CHANNEL)

    async def publish(self, message: RealtimeMessage) -> None:
        await super().publish(message)
        head = orjson.dumps([message.topic, message.client_id])
        self._cluster.broadcast(self.CHANNEL, head + b"\n" + message.data)

    async def _received(self, worker: int, data: bytes) -> None:
        head, _, payload = data.partition(b"\n")
        topic, client_id = orjson.loads(head)
        await super().publish(RealtimeMessage(topic, payload, client_id))
