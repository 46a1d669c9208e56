"""``Database.vacuum``: the file shrinks after a big delete; never inside a transaction; its
copy of the database goes to disk, not to the worker's memory."""

from __future__ import annotations

import subprocess
import sys
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


#: Run in a child process, so its peak resident memory is the vacuum's alone: builds a database
#: of ``MEGABYTES`` MB of blobs, then prints how far ``Database.vacuum`` raised the peak (MB).
MEASURE_VACUUM = """
import asyncio, resource, sys
import apsw
from pbk.db import Database

path, megabytes = sys.argv[1], int(sys.argv[2])
conn = apsw.Connection(path)
conn.pragma("journal_mode", "off")
conn.execute("CREATE TABLE t (v BLOB)")
with conn:
    conn.executemany("INSERT INTO t VALUES (randomblob(100000))", (() for _ in range(megabytes * 10)))
conn.close()

async def main():
    database = Database(path)
    await database.open()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    await database.vacuum()
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    await database.close()
    print((after - before) >> 10)

asyncio.run(main())
"""


def test_vacuum_builds_its_copy_on_disk_not_in_memory(tmp_path: Path) -> None:
    """VACUUM copies the whole database into its temp store; in memory (the connections'
    ``temp_store``) a 100 MB file cost a worker 100 MB more at its peak (issue #15). Only the
    connection's page cache (32 MB) may grow now."""
    megabytes = 100
    child = subprocess.run(
        [sys.executable, "-c", MEASURE_VACUUM, str(tmp_path / "big.db"), str(megabytes)],
        capture_output=True, text=True, timeout=120, check=True,
    )
    assert int(child.stdout) < megabytes // 2, child.stdout
