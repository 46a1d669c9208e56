"""``Database.vacuum``: the file shrinks after a big delete; never inside a transaction."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import apsw
import pytest
import pytest_asyncio
from pbk.db import Database


@pytest_asyncio.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(tmp_path / "vacuum.db")
    await database.open()
    yield database
    await database.close()


def fill(conn, rows: int) -> None:
    conn.execute("CREATE TABLE IF NOT EXISTS t (v TEXT)")
    conn.executemany("INSERT INTO t VALUES (?)", (("x" * 1000,) for _ in range(rows)))


def checkpoint(path: Path) -> None:
    """Move the WAL into the file (from a connection of the test's own, outside a transaction)."""
    conn = apsw.Connection(str(path))
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
    conn.close()


async def test_vacuum_gives_the_deleted_pages_back_to_the_disk(db):
    await db.write(fill, 3000)
    checkpoint(db.path)
    full = db.path.stat().st_size
    await db.write(lambda conn: conn.execute("DELETE FROM t"))
    checkpoint(db.path)
    assert db.path.stat().st_size == full  # a delete alone keeps the pages
    await db.vacuum()
    assert db.path.stat().st_size < full // 10
    assert Path(f"{db.path}-wal").stat().st_size == 0
    assert await db.read(lambda conn: conn.execute("SELECT count(*) FROM t").get) == 0


async def test_vacuum_refuses_inside_a_transaction(db):
    async with db.transaction():
        await db.write(fill, 1)
        with pytest.raises(RuntimeError, match="inside a transaction"):
            await db.vacuum()
    assert await db.read(lambda conn: conn.execute("SELECT count(*) FROM t").get) == 1
