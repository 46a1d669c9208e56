"""The in-process realtime broker: publish returns at once, one task delivers in order.

Another plugin can offer a cross-process broker (Redis, NATS, PostgreSQL LISTEN) through
``pbk_register_realtime_brokers``; the realtime plugin only publishes and receives.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from pbk_sdk.interfaces import RealtimeMessage

log = logging.getLogger(__name__)

Receiver = Callable[[RealtimeMessage], Awaitable[None]]


class MemoryBroker:
    def __init__(self) -> None:
        self._receivers: list[Receiver] = []
        self._queue: asyncio.Queue[RealtimeMessage] | None = None
        self._task: asyncio.Task[None] | None = None

    def on_message(self, receiver: Receiver) -> None:
        self._receivers.append(receiver)

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
