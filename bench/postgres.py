"""The PostgreSQL side of the ``pbk-pg`` server: its database, and what it costs the database.

``bench_database()`` creates a database of the run's own on the shared server (dropped after,
also when the run fails; databases of killed runs are dropped by the next run). A
``BenchDatabase`` watches it from the server's ``postgres`` database, so the harness's own
connection is never one of the bench database's backends:

- **CPU**: the backends serving the bench database are the ``pg_stat_activity`` rows of that
  database (pbk's connections, named ``pbk-main-writer`` etc.; autovacuum workers on it too);
  their CPU is read from ``/proc/<pid>/stat``, as the servers'. The server's background
  processes (WAL writer, checkpointer, background writer) work for every database of the
  server, so their CPU is kept apart ("shared").
- **connections**: the client backends of the bench database.
- **the write lock**: how often app.db's advisory write lock is held (``pg_locks``), sampled.

It also writes and clears the rows each ``delete`` run consumes (``bulk.refill_trash`` for
SQLite), with ``COPY``.
"""

from __future__ import annotations

import contextlib
import os
import statistics
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from .bulk import TRASH, TRASH_ID, pb_time
from .servers import process_cpu_seconds

#: Any database of the server the bench databases are made on.
SERVER_URL = os.environ.get("PBK_BENCH_POSTGRES", "postgresql://root@127.0.0.1:5432/postgres")
PREFIX = "pbk_bench_"
#: The harness's own connections say so, and are never counted as the server's.
APPLICATION = "pbk-bench"
#: app.db's advisory write lock (``pbk_postgres.database.WRITE_LOCKS["main"]``): one bigint key
#: shows in ``pg_locks`` as classid = its high 32 bits, objid = its low 32 bits, objsubid = 1.
WRITE_LOCK = 0x70626B01
PROBE_LOCK = 0x70626BFF
SHARED_PROCESSES = ("walwriter", "checkpointer", "background writer")


def _connect(url: str):
    import psycopg

    return psycopg.connect(url, autocommit=True, connect_timeout=10, application_name=APPLICATION)


@contextlib.contextmanager
def bench_database(server_url: str = SERVER_URL) -> Iterator[str]:
    """A new empty database (its URL), dropped on the way out, connections and all."""
    name = f"{PREFIX}{os.getpid()}_{uuid.uuid4().hex[:8]}"
    with _connect(server_url) as admin:
        for (orphan,) in admin.execute("SELECT datname FROM pg_database WHERE starts_with(datname, %s)",
                                       (PREFIX,)).fetchall():
            pid = orphan[len(PREFIX):].partition("_")[0]
            if pid.isdigit() and not Path(f"/proc/{pid}").exists():  # its run was killed
                admin.execute(f'DROP DATABASE IF EXISTS "{orphan}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlunsplit(urlsplit(server_url)._replace(path=f"/{name}"))
    finally:
        with _connect(server_url) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


SETTINGS = ("server_version", "max_connections", "shared_buffers", "fsync", "synchronous_commit",
            "autovacuum")


def server_version(url: str) -> str:
    with _connect(url) as conn:
        return str(conn.execute("SHOW server_version").fetchone()[0]).split()[0]


def describe(database: BenchDatabase) -> dict[str, Any]:
    """For the result: the settings that bound the numbers, the idle node's connections, and
    how long a bare write transaction takes."""
    rows = database._rows("SELECT name, setting, unit FROM pg_settings WHERE name = ANY(%s)", (list(SETTINGS),))
    return {"database": database.name,
            "settings": {name: f"{value}{' × ' + unit if unit else ''}" for name, value, unit in rows},
            "idle_connections": database.connections(), "bare_write_ms": bare_write_ms(database.url)}


def bare_write_ms(url: str, count: int = 300) -> dict[str, float]:
    """The database's own part of a write, as pbk sends it (``BEGIN; SELECT
    pg_advisory_xact_lock(...)``, one INSERT of a record's size, ``COMMIT``, each a round trip;
    the commit waits for the WAL on disk): one client, one after the other, in a scratch table
    of the bench database, with a lock key of its own. The inverse of the median is what the
    advisory lock lets through with no Python in the transaction at all."""
    times = []
    with _connect(url) as conn:
        conn.execute("CREATE TABLE pbk_bench_probe (n BIGINT GENERATED ALWAYS AS IDENTITY, body TEXT)")
        try:
            for _ in range(count):
                began = time.perf_counter()
                conn.execute(f"BEGIN; SELECT pg_advisory_xact_lock({PROBE_LOCK})")
                conn.execute("INSERT INTO pbk_bench_probe (body) VALUES (%s)", ("a body " * 20,))
                conn.execute("COMMIT")
                times.append((time.perf_counter() - began) * 1000)
        finally:
            conn.execute("DROP TABLE pbk_bench_probe")
    times.sort()
    return {"median": statistics.median(times), "p90": times[int(len(times) * 0.9)]}


class BenchDatabase:
    """The bench database of a ``pbk-pg`` server, watched from the server's ``postgres`` one."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.name = urlsplit(url).path.lstrip("/")
        self.monitor_url = urlunsplit(urlsplit(url)._replace(path="/postgres"))
        self._monitor = _connect(self.monitor_url)
        self._lock = threading.Lock()  # the settle loop and the measurement share the connection

    def close(self) -> None:
        self._monitor.close()

    def _rows(self, query: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._monitor.execute(query, params).fetchall()

    def backend_pids(self) -> list[int]:
        """The backends serving the bench database now (the harness's own left out)."""
        return [pid for (pid,) in self._rows(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND application_name <> %s",
            (self.name, APPLICATION))]

    def shared_pids(self) -> list[int]:
        return [pid for (pid,) in self._rows(
            "SELECT pid FROM pg_stat_activity WHERE backend_type = ANY(%s)", (list(SHARED_PROCESSES),))]

    def connections(self) -> int:
        """Client connections to the bench database (pbk's pools: what one node costs it)."""
        return len(self._rows(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND application_name <> %s "
            "AND backend_type = 'client backend'", (self.name, APPLICATION)))

    def cpu(self) -> CpuSnapshot:
        return CpuSnapshot(self, {pid: process_cpu_seconds(pid) for pid in self.backend_pids()},
                           {pid: process_cpu_seconds(pid) for pid in self.shared_pids()})

    def backends_cpu_seconds(self) -> float:
        """CPU used so far by the backends alive now (for the idle check)."""
        return sum(process_cpu_seconds(pid) for pid in self.backend_pids())

    def refill_trash(self, first: int, count: int) -> None:
        """Rows ``TRASH_ID`` ``first`` .. ``first + count - 1`` in the bench database's ``trash``."""
        now = pb_time()
        columns = f'COPY "{TRASH}" (id, title, views, created, updated) FROM STDIN'
        with _connect(self.url) as conn, conn.cursor() as cursor, cursor.copy(columns) as copy:
            for n in range(first, first + count):
                copy.write_row((TRASH_ID.format(n), f"to delete {n}", n, now, now))

    def clear_trash_from(self, first: int) -> None:
        with _connect(self.url) as conn:
            conn.execute(f'DELETE FROM "{TRASH}" WHERE id >= %s', (TRASH_ID.format(first),))
            conn.execute(f'VACUUM "{TRASH}"')  # autovacuum may be off: every run starts alike


class CpuSnapshot:
    """CPU seconds per backend at one moment; ``since`` gives what was used after it."""

    def __init__(self, database: BenchDatabase, backends: dict[int, float], shared: dict[int, float]) -> None:
        self.database, self.backends, self.shared = database, backends, shared

    def since(self) -> tuple[float, float]:
        """(bench database backends, shared background processes) CPU seconds used since this
        snapshot. A backend that started meanwhile counts from 0; one that ended meanwhile is
        lost (pbk keeps its connections open, so none does in a run)."""
        later = self.database.cpu()
        backends = sum(cpu - self.backends.get(pid, 0.0) for pid, cpu in later.backends.items())
        shared = sum(cpu - self.shared.get(pid, 0.0) for pid, cpu in later.shared.items())
        return backends, shared


class WriteLockWatch:
    """Whether app.db's advisory write lock is held now, and how many writers wait for it: a
    connection of its own to the server's ``postgres`` database, for a sampling thread."""

    QUERY = ("SELECT count(*) FILTER (WHERE granted), count(*) FILTER (WHERE NOT granted) FROM pg_locks l "
             "JOIN pg_database d ON d.oid = l.database WHERE l.locktype = 'advisory' AND d.datname = %s "
             "AND l.classid = %s AND l.objid = %s AND l.objsubid = 1")

    def __init__(self, database: BenchDatabase) -> None:
        self._conn = _connect(database.monitor_url)
        self._params = (database.name, WRITE_LOCK >> 32, WRITE_LOCK & 0xFFFFFFFF)

    def sample(self) -> tuple[int, int]:
        """(holders: 0 or 1, waiting writers)."""
        return self._conn.execute(self.QUERY, self._params).fetchone()

    def close(self) -> None:
        self._conn.close()
