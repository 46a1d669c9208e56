"""Entries wait here and reach ``_logs`` in batches, in a background task of the worker.

Adding is a ``deque.append`` (thread-safe, so ``logging`` calls from database threads are
fine); a task writes whatever waits every ``interval`` seconds, or sooner once ``batch``
entries wait, in one short transaction on ``auxiliary.db``. ``close()`` writes the rest, so
a clean stop loses nothing. If writes keep failing, the oldest entries beyond ``capacity``
are dropped rather than holding the worker's memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Callable
from typing import Any

from .rows import AppEntry, RequestEntry, inserter

log = logging.getLogger(__name__)

INTERVAL = 1.0
BATCH = 5000
CAPACITY = 100_000


class LogBuffer:
    def __init__(
        self,
        db: Any,
        max_data_size: Callable[[], int] = lambda: 0,
        *,
        interval: float = INTERVAL,
        batch: int = BATCH,
        capacity: int = CAPACITY,
    ) -> None:
        """``max_data_size`` tells ``logs.maxDataSize`` at the time of a write, when
        PocketBase applies it too."""
        self._db = db
        self._max_data_size = max_data_size
        self._interval = interval
        self._batch = batch
        self._pending: deque[RequestEntry | AppEntry] = deque(maxlen=capacity)
        self._wake: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._writing = asyncio.Lock()

    def __len__(self) -> int:
        return len(self._pending)

    def add(self, entry: RequestEntry | AppEntry) -> None:
        """From the event loop: queue ``entry``; a full batch wakes the writer early."""
        pending = self._pending
        pending.append(entry)
        if len(pending) >= self._batch and self._wake is not None:
            self._wake.set()

    def add_threadsafe(self, entry: RequestEntry | AppEntry) -> None:
        """From any thread: queue ``entry`` for the next timed write."""
        self._pending.append(entry)

    def start(self) -> None:
        self._stopping = False
        self._wake = asyncio.Event()
        self._task = asyncio.create_task(self._run(), name="pbk-logs-writer")

    async def close(self) -> None:
        """Stop the background task (never in the middle of a write, which would roll the
        batch back) and write everything still waiting."""
        task, self._task = self._task, None
        if task is not None and self._wake is not None:
            self._stopping = True
            self._wake.set()
            await task
        await self.flush()

    async def _run(self) -> None:
        wake = self._wake
        assert wake is not None
        while not self._stopping:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), self._interval)
            wake.clear()
            await self.flush()

    async def flush(self) -> None:
        """Write what waits now, ``batch`` rows per transaction."""
        async with self._writing:
            pending = self._pending
            while pending:
                entries = [pending.popleft() for _ in range(min(len(pending), self._batch))]
                if not await self._write(entries):
                    return

    async def _write(self, entries: list[RequestEntry | AppEntry]) -> bool:
        """One try more (new ids, the lock free again) before the batch is given up."""
        for attempt in range(2):
            try:
                await self._db.write(inserter(self._db.engine), entries, self._max_data_size())
                return True
            except Exception:  # a full disk, a dropped table: say so, keep serving
                if attempt:
                    log.warning("could not write %d log entries", len(entries), exc_info=True)
        return False
