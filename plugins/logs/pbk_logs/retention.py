"""Deleting logs older than ``logs.maxDays`` days, and giving the space back after big deletes.

As PocketBase, in the ``__pbLogsCleanup__`` cron job every 6 hours (the crons plugin runs it
in one worker); also at each worker's start-up, so a server without the crons plugin still
sheds old rows (a cheap indexed ``DELETE`` that finds nothing to do most of the time).
"""

from __future__ import annotations

import logging
import time
from typing import Any

from .options import LogOptions
from .rows import timestamp
from .schema import LOGS

log = logging.getLogger(__name__)

#: PocketBase's system job and its schedule.
CLEANUP_JOB = "__pbLogsCleanup__"
CLEANUP_SCHEDULE = "0 */6 * * *"
DAY = 86400.0


def cutoff(max_days: int, now: float | None = None) -> str:
    """``created`` at or before this is older than ``max_days`` days."""
    return timestamp((time.time() if now is None else now) - max_days * DAY)


def delete_old(conn: Any, max_days: int) -> None:
    conn.execute(f'DELETE FROM "{LOGS}" WHERE created <= ?', (cutoff(max_days),))


def delete_unwanted(conn: Any, max_days: int, min_level: int) -> None:
    """After a settings change, as PocketBase: rows too old or below the new ``minLevel``."""
    conn.execute(f'DELETE FROM "{LOGS}" WHERE created <= ? OR level < ?', (cutoff(max_days), min_level))


async def clean_up(db: Any, options: LogOptions) -> None:
    try:
        await db.write(delete_old, options.max_days)
    except Exception:
        log.warning("could not delete old logs", exc_info=True)


async def reclaim_space(db: Any) -> None:
    """``VACUUM`` ``auxiliary.db`` (off the event loop, outside a transaction) where PocketBase
    does: after ``DELETE /api/logs`` and after a settings change to ``maxDays`` 0. Not on
    PostgreSQL: there it would vacuum the whole database, and autovacuum reuses the space."""
    if db.engine == "postgresql":
        return
    try:
        await db.vacuum()
    except Exception:
        log.warning("could not VACUUM %s", getattr(db, "path", "auxiliary.db"), exc_info=True)
