"""``PostgresDatabase``: the SDK's ``Database`` on PostgreSQL, for ``--db postgresql://...``.

It is the kernel's SQLite ``Database`` with PostgreSQL connections: the same writer thread and
reader threads, the same transaction bookkeeping (``transaction()``, savepoints for nested
writes, ``after_commit``/``after_rollback``, cancellation), so both engines behave alike. What
differs:

- Connections are ``PgConnection``s, made lazily on the thread that uses them (so nothing opened
  before ``--workers`` forks is used after it) and made again when the server dropped them.
- A write transaction's ``BEGIN IMMEDIATE`` also takes an advisory lock (one per role), so
  writers take turns across processes and nodes as SQLite's do across processes: the
  read-then-write code plugins wrote for SQLite stays correct.
- ``--queryTimeout`` is the reader connections' ``statement_timeout``; the writer waits at most
  ``BUSY_TIMEOUT_MS`` for a lock (``lock_timeout``), as SQLite's busy handler.
- Nothing runs on the event loop thread (``read_inline`` and ``write(inline=True)`` take the
  thread hop): a statement there would wait on the network.
- ``vacuum()`` is ``VACUUM (ANALYZE)`` of the whole database.
- A database the URL names that does not exist yet is created, as a missing data dir is.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import apsw
import psycopg
from pbk.db import BUSY_TIMEOUT_MS, Database
from pbk_sdk.errors import PluginError
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from .connection import PgConnection

T = TypeVar("T")
log = logging.getLogger(__name__)

#: The advisory lock each role's writer takes: app.db's and app.aux_db's writers do not wait
#: for each other, as data.db's and auxiliary.db's do not on SQLite.
WRITE_LOCKS = {"main": 0x70626B01, "aux": 0x70626B02}
#: Files and folders beside it stay in the data dir; ``path`` names where data.db would be.
FILES = {"main": "data.db", "aux": "auxiliary.db"}


class PostgresDatabase(Database):
    """One role (``main``: ``app.db``, ``aux``: ``app.aux_db``) of a PostgreSQL database."""

    engine = "postgresql"

    def __init__(self, url: str, path: Path, *, role: str = "main", readers: int = 4,
                 query_timeout: float = 30.0, trace_sql: bool = False) -> None:
        super().__init__(path, readers=readers, query_timeout=query_timeout, trace_sql=trace_sql)
        self.url = url
        self.role = role
        self._write_key = WRITE_LOCKS[role]

    def _connection(self, *, writer: bool) -> PgConnection:
        settings = {"application_name": f"pbk-{self.role}-{'writer' if writer else 'reader'}"}
        if writer:
            settings["lock_timeout"] = f"{BUSY_TIMEOUT_MS}ms"
        elif self.query_timeout:
            settings["statement_timeout"] = f"{int(self.query_timeout * 1000)}ms"
        # After the URL's own ``options`` parameter, which the keyword would otherwise replace.
        given = conninfo_to_dict(self.url).get("options") or ""
        options = " ".join([str(given), *(f"-c {name}={value}" for name, value in settings.items())]).strip()
        return self._register(PgConnection.lazy(  # type: ignore[return-value]
            self.url, options={"options": options}, trace=self._trace_sql,
            write_lock=self._write_key if writer else None))

    async def open(self) -> None:
        """Connect the writer (on its thread) and check the server answers: a database that
        cannot be reached is one clear error at start, not at the first request."""
        if self._closed:
            raise RuntimeError(f"database {redacted(self.url)} was closed and cannot be reopened")
        self._write_lock = asyncio.Lock()
        loop = asyncio.get_running_loop()
        try:
            await loop.run_in_executor(self._writer, _check, self._writer_connection())
        except apsw.Error as exc:
            if not await loop.run_in_executor(self._writer, create_if_missing, self.url):
                message = str(exc).split(": ", 1)[-1]
                raise PluginError(f"cannot open the PostgreSQL database {redacted(self.url)}: {message}") from exc
            await loop.run_in_executor(self._writer, _check, self._writer_connection())

    def _writer_connection(self) -> PgConnection:  # type: ignore[override]
        if self._writer_conn is None:
            self._writer_conn = self._connection(writer=True)  # type: ignore[assignment]
        return self._writer_conn  # type: ignore[return-value]

    def _reader_connection(self) -> PgConnection:  # type: ignore[override]
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = self._connection(writer=False)
        return conn  # type: ignore[no-any-return]

    async def read_inline(self, fn: Callable[..., T], *args: Any) -> T:
        """``read()``: on PostgreSQL a statement on the event loop would wait on the network."""
        return await self.read(fn, *args)

    def _write_inline(self, fn: Callable[..., T], args: tuple[Any, ...]) -> tuple[bool, T | None]:
        return False, None  # as read_inline: every write goes to the writer thread

    def _writer_idle_in_transaction(self) -> bool:
        return False  # SAVEPOINT, RELEASE and COMMIT too go to the writer thread

    def _writer_here_in_transaction(self) -> bool:
        return False

    async def vacuum(self) -> None:
        """``VACUUM (ANALYZE)`` of the database (outside any transaction, on the writer): the
        space of dead rows is reused and the planner's statistics refreshed. Raises
        ``RuntimeError`` inside ``transaction()``, as on SQLite."""
        if self._active_transaction() is not None:
            raise RuntimeError("cannot VACUUM inside a transaction")
        if self._closed or self._write_lock is None:
            raise RuntimeError(f"database {redacted(self.url)} is not open")
        async with self._write_lock:
            await self._on_writer(_vacuum)


def create_if_missing(url: str) -> bool:
    """Create the database ``url`` names when the server has none of that name, as pbk creates
    a missing data dir; True if it did. Asked through the server's ``postgres`` database; False
    (the caller reports the first error) when that cannot be reached or the role may not."""
    name = conninfo_to_dict(url).get("dbname")
    if not name:
        return False
    try:
        with psycopg.connect(url, dbname="postgres", autocommit=True, connect_timeout=10) as admin:
            if admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
                return False
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(str(name))))
    except psycopg.errors.DuplicateDatabase:
        return True  # another process made it meanwhile
    except psycopg.Error:
        return False
    log.info("created the PostgreSQL database %s", name)
    return True


def _check(conn: PgConnection) -> None:
    conn.execute("SELECT 1")


def _vacuum(conn: PgConnection) -> None:
    conn.execute("VACUUM (ANALYZE)")


def redacted(url: str) -> str:
    """``url`` without its password, for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit(parts._replace(netloc=f"{parts.username}:***@{netloc}"))


def open_database(url: str, role: str, config: Any) -> PostgresDatabase:
    """The ``pbk.databases`` entry point: ``app.db`` (``role="main"``) or ``app.aux_db``
    (``"aux"``) on the PostgreSQL database of ``url``; both roles share that database."""
    if role not in WRITE_LOCKS:
        raise PluginError(f"unknown database role {role!r}: expected 'main' or 'aux'")
    return PostgresDatabase(
        url,
        Path(config.data_dir) / FILES[role],
        role=role,
        readers=4 if role == "main" else 2,
        query_timeout=config.query_timeout,
        trace_sql=config.dev,
    )
