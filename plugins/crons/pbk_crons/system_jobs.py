"""PocketBase's system jobs: database upkeep at midnight, expired MFA and OTP rows every hour.

``__pbDBOptimize__`` does what PocketBase 0.40 does: checkpoint and truncate the WAL of
``data.db`` and of ``auxiliary.db``, then ``PRAGMA optimize`` on ``data.db``; each step that fails
logs a warning and the next still runs. A checkpoint cannot run inside a transaction, so it runs
on a reader connection (any connection may checkpoint); ``optimize`` may write statistics, so it
runs on the writer. On PostgreSQL there is no WAL file of pbk's to checkpoint and autovacuum
keeps the planner's statistics: the job runs ``ANALYZE`` there, the closest to ``optimize``.

``__pbMFACleanup__`` and ``__pbOTPCleanup__`` delete, for every auth collection, the ``_mfas`` /
``_otps`` rows created longer ago than that collection's ``mfa.duration`` / ``otp.duration``
seconds (even where MFA or OTP is off, as PocketBase does, so nothing is left dangling). They
delete through the record store, one record at a time as PocketBase does, so the record events
fire.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime, timedelta
from typing import Any

from pbk_sdk.interfaces import RECORD_STORE, App

log = logging.getLogger(__name__)

DB_OPTIMIZE = "__pbDBOptimize__"
MFA_CLEANUP = "__pbMFACleanup__"
OTP_CLEANUP = "__pbOTPCleanup__"

CHECKPOINT = "PRAGMA wal_checkpoint(TRUNCATE)"


def _execute(sql: str) -> Callable[[Any], None]:
    def run(conn: Any) -> None:
        conn.execute(sql).fetchall()

    return run


async def optimize_databases(app: App) -> None:
    if app.db.engine == "postgresql":  # app.aux_db is the same database
        try:
            await app.db.write(lambda conn: conn.execute("ANALYZE"))
        except Exception as exc:  # noqa: BLE001
            log.warning("periodic ANALYZE failed: %s", exc)
        return
    for db, name in ((app.db, "main"), (app.aux_db, "auxiliary")):
        try:
            await db.read(_execute(CHECKPOINT))
        except Exception as exc:  # noqa: BLE001 - logged as PocketBase logs it; the rest still runs
            log.warning("periodic PRAGMA wal_checkpoint of the %s DB failed: %s", name, exc)
    try:
        await app.db.write(_execute("PRAGMA optimize"))
    except Exception as exc:  # noqa: BLE001
        log.warning("periodic PRAGMA optimize failed: %s", exc)


def pocketbase_datetime(moment: datetime) -> str:
    """``2026-11-21 04:56:25.037Z``, as PocketBase stores ``created``."""
    return moment.strftime("%Y-%m-%d %H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _collection_refs(table: str) -> Callable[[Any], list[str]]:
    def read(conn: Any) -> list[str]:
        return [row[0] for row in conn.execute(f'SELECT DISTINCT "collectionRef" FROM "{table}"')]

    return read


async def delete_expired(app: App, table: str, option: str) -> int:
    """Delete ``table``'s rows older than their auth collection's ``<option>.duration``;
    returns how many."""
    store = app.services.get(RECORD_STORE, "sqlite")
    rows = store.collection(table)
    if rows is None:
        return 0
    now = datetime.now(UTC)
    deleted = 0
    for ref in await app.db.read(_collection_refs(table)):
        owner = store.collection(ref)
        if owner is None or owner.type != "auth":
            continue
        seconds = int((owner.options.get(option) or {}).get("duration") or 0)
        expired = await store.list(
            rows, filter="collectionRef = {:ref} && created < {:date}",
            params={"ref": owner.id, "date": pocketbase_datetime(now - timedelta(seconds=seconds))},
        )
        for record in expired:
            await store.delete(rows, record["id"])
            deleted += 1
    return deleted


def system_jobs(app: App) -> dict[str, tuple[str, Callable[[], Coroutine[Any, Any, None]]]]:
    """PocketBase's system jobs, in PocketBase's order."""

    async def optimize() -> None:
        await optimize_databases(app)

    async def mfa_cleanup() -> None:
        await delete_expired(app, "_mfas", "mfa")

    async def otp_cleanup() -> None:
        await delete_expired(app, "_otps", "otp")

    return {
        DB_OPTIMIZE: ("0 0 * * *", optimize),
        MFA_CLEANUP: ("0 * * * *", mfa_cleanup),
        OTP_CLEANUP: ("0 * * * *", otp_cleanup),
    }
