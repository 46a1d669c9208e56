"""Rows written straight into a ``data.db`` with APSW, in PocketBase's on-disk format.

PocketBase stores a bool as 0/1, a multi-value field as JSON text, a relation as the id, dates
as ``2026-01-02 03:04:05.678Z``; pbk reads and writes the same format, so rows put here are
records to both. Used where the HTTP API would be far too slow: the rows each ``delete`` run
consumes, and the 1,000,000-record scale collection. Table and column names come from this
harness, never from a request.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path

TRASH = "trash"
TRASH_ID = "d{:014d}"  # 15 characters, as PocketBase's ids; wrk's Lua formats the same


def pb_time(moment: datetime | None = None) -> str:
    """A timestamp as PocketBase stores it (UTC, milliseconds, ``Z``)."""
    moment = moment or datetime.now(UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _connect(db_path: Path):
    import apsw

    connection = apsw.Connection(str(db_path))
    connection.set_busy_timeout(30_000)
    return connection


def insert(db_path: Path, table: str, columns: Sequence[str], rows: Iterable[Sequence[object]]) -> int:
    """Insert ``rows`` into ``table`` in one transaction; returns how many."""
    names = ", ".join(f"`{c}`" for c in columns)
    marks = ", ".join("?" for _ in columns)
    connection = _connect(db_path)
    try:
        before = connection.total_changes()
        with connection:
            connection.executemany(f"INSERT INTO `{table}` ({names}) VALUES ({marks})", rows)
        return connection.total_changes() - before
    finally:
        connection.close()


def refill_trash(db_path: Path, first: int, count: int) -> None:
    """Rows ``TRASH_ID`` ``first`` .. ``first + count - 1`` for a delete run to consume."""
    now = pb_time()
    insert(db_path, TRASH, ("id", "title", "views", "created", "updated"),
           ((TRASH_ID.format(n), f"to delete {n}", n, now, now) for n in range(first, first + count)))


def clear_trash_from(db_path: Path, first: int) -> int:
    """Remove what a delete run left of its rows, so every run starts from the same table."""
    connection = _connect(db_path)
    try:
        with connection:
            connection.execute(f"DELETE FROM `{TRASH}` WHERE id >= ?", (TRASH_ID.format(first),))
        left = connection.changes()
        connection.pragma("wal_checkpoint", "PASSIVE")
        return left
    finally:
        connection.close()


def copy_database(source: Path, target: Path) -> None:
    """A consistent copy of a live ``data.db`` (SQLite's backup API, WAL included)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    source_connection, target_connection = _connect(source), _connect(target)
    try:
        with target_connection.backup("main", source_connection, "main") as backup:
            backup.step()
        target_connection.pragma("journal_mode", "wal")
    finally:
        target_connection.close()
        source_connection.close()
