"""Deleting logs older than ``logs.maxDays`` days.

PocketBase runs this in its ``__pbLogsCleanup__`` cron job every 6 hours; pbk has no crons
yet, so every worker runs it at start-up and then on a timer (a cheap indexed ``DELETE``
that finds nothing to do most of the time). It moves to the cron job when crons land.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

from .options import LogOptions
from .rows import timestamp
from .schema import LOGS

log = logging.getLogger(__name__)

#: PocketBase's ``__pbLogsCleanup__`` runs at ``0 */6 * * *``.
CLEANUP_INTERVAL = 6 * 3600.0
DAY = 86400.0


def cutoff(max_days: int, now: float | None = None) -> str:
    """``created`` at or before this is older than ``max_days`` days."""
    return timestamp((time.time() if now is None else now) - max_days * DAY)


def delete_old(conn: Any, max_days: int) -> None:
    conn.execute(f"DELETE FROM `{LOGS}` WHERE created <= ?", (cutoff(max_days),))


def delete_unwanted(conn: Any, max_days: int, min_level: int) -> None:
    """After a settings change, as PocketBase: rows too old or below the new ``minLevel``."""
    conn.execute(f"DELETE FROM `{LOGS}` WHERE created <= ? OR level < ?", (cutoff(max_days), min_level))


async def clean_up(db: Any, options: LogOptions) -> None:
    try:
        await db.write(delete_old, options.max_days)
    except Exception:
        log.warning("could not delete old logs", exc_info=True)


async def clean_up_periodically(db: Any, read_options: Any, interval: float = CLEANUP_INTERVAL) -> None:
    """Until cancelled: ``clean_up`` every ``interval`` seconds with the options then in force."""
    with contextlib.suppress(asyncio.CancelledError):
        while True:
            await asyncio.sleep(interval)
            await clean_up(db, read_options())
