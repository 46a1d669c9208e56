"""The minute tick: on every whole minute (UTC, as PocketBase) the leader starts the due jobs.

Every worker runs this loop; at each tick only the process for which ``app.cluster.lead()`` is
true goes on, so a job due at minute M starts once for all workers. A worker that is not the
leader keeps asking for a short while after the tick: when the leader died just before it, the
lock is free a moment later and the tick is still run.

The leader also writes the tick it ran to ``pb_data/.pbk_cron_tick`` before it starts the jobs.
A process that becomes leader reads it first, so a tick the previous leader ran just before it
died (while this one woke late) is not run twice.

``PBK_CRON_TICK`` (seconds, default 60) makes a "minute" shorter; it exists for tests, so that
they see many ticks without waiting real minutes. Ticks stay aligned to multiples of it.
"""

from __future__ import annotations

import asyncio
import logging
import math
import os
import time
from datetime import UTC, datetime
from pathlib import Path

from pbk_sdk.interfaces import App

from .jobs import Jobs

log = logging.getLogger(__name__)

TICK_ENV = "PBK_CRON_TICK"
TICK_FILE = ".pbk_cron_tick"
MINUTE = 60.0
#: A follower asks for the leadership again for this share of a tick after it.
TAKEOVER_SHARE = 0.1
TAKEOVER_TRIES = 10


def tick_seconds() -> float:
    """The tick from ``PBK_CRON_TICK``, or a minute."""
    raw = os.environ.get(TICK_ENV, "")
    if not raw:
        return MINUTE
    try:
        value = float(raw)
    except ValueError:
        value = 0.0
    if not 0 < value <= MINUTE:
        log.warning("%s=%r is not a number of seconds in (0, 60]; ticking every minute", TICK_ENV, raw)
        return MINUTE
    return value


class Scheduler:
    """Ticks for one worker; ``start()`` when the server serves, ``await stop()`` at the end."""

    def __init__(self, app: App, jobs: Jobs, interval: float) -> None:
        self.app = app
        self.jobs = jobs
        self.interval = interval
        self.record = Path(app.data_dir) / TICK_FILE
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._loop(), name="pbk-cron-ticker")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def _loop(self) -> None:
        tick = math.floor(time.time() / self.interval) + 1
        while True:
            while (delay := tick * self.interval - time.time()) > 0:
                await asyncio.sleep(delay)
            try:
                await self.run_tick(tick)
            except Exception:
                log.exception("cron tick failed")
            # A loop held up past several ticks skips to the next one (PocketBase's ticker too).
            tick = max(tick + 1, math.floor(time.time() / self.interval) + 1)

    async def run_tick(self, tick: int) -> bool:
        """Start the jobs due at ``tick`` (a multiple of the interval, in seconds since the
        epoch) if this process leads and nobody ran it yet; True when it did."""
        if not await self._lead() or not await asyncio.to_thread(self._claim_tick, tick):
            return False
        # Settings another worker changed reach this one at its next request, which may not
        # come for long: reload them now, so jobs they schedule (auto backups) are current.
        await self.app.cluster.sync()
        self.jobs.run_due(datetime.fromtimestamp(tick * self.interval, UTC))
        return True

    async def _lead(self) -> bool:
        pause = self.interval * TAKEOVER_SHARE / TAKEOVER_TRIES
        for _ in range(TAKEOVER_TRIES):
            if self.app.cluster.lead():
                return True
            await asyncio.sleep(pause)
        return self.app.cluster.lead()

    def _claim_tick(self, tick: int) -> bool:
        """Record ``tick`` as run unless it was (only the leader writes the record)."""
        try:
            last = int(self.record.read_text() or 0)
        except (OSError, ValueError):
            last = 0
        # Further ahead than the next tick: the clock was set back, the record is no guide.
        if tick <= last <= tick + 1:
            return False
        staged = self.record.with_name(f"{TICK_FILE}.{os.getpid()}")
        staged.write_text(str(tick))
        os.replace(staged, self.record)
        return True
