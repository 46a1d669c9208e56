"""SQLite through APSW, kept off the event loop.

One writer thread with its own connection serialises every write; a small pool of reader
threads with their own connections serve reads concurrently (WAL). ``transaction()`` lets
async code (event handlers, batch requests) group several writes into one transaction; the
current transaction travels in a context variable, so nested ``write``/``read`` calls made
inside it join it as savepoints instead of dead-locking on the writer.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import itertools
import logging
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import apsw
import apsw.bestpractice
from pbk_sdk.errors import QueryTimeoutError

T = TypeVar("T")
log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 10_000
_savepoint_names = itertools.count()


def open_connection(path: Path, *, writer: bool, trace_sql: bool = False) -> apsw.Connection:
    """Open ``path`` with pbk's pragmas (WAL, foreign keys, NORMAL sync, no DQS)."""
    conn = apsw.Connection(str(path))
    # NOTE: busy timeout first, so a second process switching to WAL waits instead of failing.
    conn.set_busy_timeout(BUSY_TIMEOUT_MS)
    apsw.bestpractice.connection_wal(conn)
    apsw.bestpractice.connection_enable_foreign_keys(conn)
    apsw.bestpractice.connection_dqs(conn)
    apsw.bestpractice.connection_recursive_triggers(conn)
    conn.pragma("synchronous", "NORMAL")
    conn.pragma("cache_size", -32_000)
    conn.pragma("temp_store", "MEMORY")
    if writer:
        # Take the write lock at BEGIN, not halfway through a transaction.
        conn.transaction_mode = "IMMEDIATE"
    if trace_sql:
        conn.exec_trace = _trace_sql
    return conn


def _rollback_if_open(conn: apsw.Connection) -> None:
    if conn.in_transaction:
        conn.execute("ROLLBACK")


def _trace_sql(cursor: apsw.Cursor, sql: str, bindings: Any) -> bool:
    log.debug("SQL %s %r", sql.strip(), bindings)
    return True


class _Transaction:
    """One open write transaction (or savepoint) and the callbacks waiting for its commit."""

    def __init__(self, db: Database, parent: _Transaction | None) -> None:
        self.db = db
        self.parent = parent
        self.callbacks: list[Callable[[], Awaitable[None]]] = []
        self.rollback_callbacks: list[Callable[[], Awaitable[None]]] = []
        # False once committed or rolled back: a task spawned inside the transaction inherits
        # the context variable and may outlive it; it must not join a finished transaction.
        self.active = True
        self.children = asyncio.Lock()


class Database:
    """An SQLite file with a writer thread and reader threads (see module docstring)."""

    def __init__(
        self,
        path: Path,
        *,
        readers: int = 4,
        query_timeout: float = 30.0,
        trace_sql: bool = False,
    ) -> None:
        self.path = Path(path)
        self.query_timeout = query_timeout
        self._trace_sql = trace_sql
        self._current: contextvars.ContextVar[_Transaction | None] = contextvars.ContextVar(
            f"pbk_tx_{self.path.name}", default=None
        )
        self._local = threading.local()
        self._connections: list[apsw.Connection] = []
        self._connections_lock = threading.Lock()
        self._writer_conn: apsw.Connection | None = None
        self._writer = ThreadPoolExecutor(1, thread_name_prefix=f"pbk-db-writer-{self.path.stem}")
        self._readers = ThreadPoolExecutor(
            readers, thread_name_prefix=f"pbk-db-reader-{self.path.stem}"
        )
        self._write_lock: asyncio.Lock | None = None
        self._closed = False

    # ------------------------------------------------------------------ lifecycle

    async def open(self) -> None:
        """Create the file if needed and switch it to WAL on the writer thread."""
        if self._closed:
            # Its thread pools are shut down; say so instead of "cannot schedule new futures".
            raise RuntimeError(f"database {self.path.name} was closed and cannot be reopened")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._write_lock = asyncio.Lock()
        await asyncio.get_running_loop().run_in_executor(self._writer, self._writer_connection)

    async def close(self) -> None:
        """Wait for running work, then close every connection."""
        if self._closed:
            return
        self._closed = True
        loop = asyncio.get_running_loop()
        if self._write_lock is not None:
            async with self._write_lock:
                await loop.run_in_executor(None, self._writer.shutdown, True)
        await loop.run_in_executor(None, self._readers.shutdown, True)
        with self._connections_lock:
            for conn in self._connections:
                conn.close()
            self._connections.clear()

    def _writer_connection(self) -> apsw.Connection:
        if self._writer_conn is None:
            self._writer_conn = self._register(
                open_connection(self.path, writer=True, trace_sql=self._trace_sql)
            )
        return self._writer_conn

    def _reader_connection(self) -> apsw.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._register(open_connection(self.path, writer=False, trace_sql=self._trace_sql))
            conn.set_progress_handler(self._check_deadline, 1000)
            self._local.conn = conn
        return conn

    def _register(self, conn: apsw.Connection) -> apsw.Connection:
        with self._connections_lock:
            self._connections.append(conn)
        return conn

    def _check_deadline(self) -> bool:
        deadline = getattr(self._local, "deadline", None)
        return deadline is not None and time.monotonic() > deadline

    # ------------------------------------------------------------------ reads

    async def read(self, fn: Callable[..., T], *args: Any) -> T:
        if self._closed:
            raise RuntimeError(f"database {self.path.name} is closed")
        if self._active_transaction() is not None:
            return await self._on_writer(fn, *args)
        loop = asyncio.get_running_loop()
        ctx = contextvars.copy_context()
        return await loop.run_in_executor(self._readers, ctx.run, self._run_read, fn, args)

    def _run_read(self, fn: Callable[..., T], args: tuple[Any, ...]) -> T:
        conn = self._reader_connection()
        self._local.deadline = time.monotonic() + self.query_timeout if self.query_timeout else None
        try:
            return fn(conn, *args)
        except apsw.InterruptError as exc:
            raise QueryTimeoutError() from exc
        finally:
            self._local.deadline = None

    # ------------------------------------------------------------------ writes

    async def write(self, fn: Callable[..., T], *args: Any) -> T:
        async with self.transaction():
            return await self._on_writer(fn, *args)

    async def _on_writer(self, fn: Callable[..., T], *args: Any) -> T:
        loop = asyncio.get_running_loop()
        ctx = contextvars.copy_context()
        future = loop.run_in_executor(self._writer, ctx.run, fn, self._writer_connection(), *args)
        try:
            return await asyncio.shield(future)
        except asyncio.CancelledError:
            # NOTE: a cancelled request must not leave the transaction bookkeeping behind the
            # connection's real state: let the statement finish, then pass the cancellation on.
            await asyncio.wait([future])
            raise

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[_Transaction]:
        while (parent := self._active_transaction()) is not None:
            # NOTE: sibling savepoints (asyncio.gather of writes inside a transaction) take
            # turns; interleaved SAVEPOINT/RELEASE on the one writer connection would fail.
            async with parent.children:
                if parent.active:  # it may have ended while this task waited its turn
                    async with self._savepoint(parent) as tx:
                        yield tx
                    return
        if self._closed or self._write_lock is None:
            raise RuntimeError(f"database {self.path.name} is not open")
        async with self._write_lock:
            tx = _Transaction(self, None)
            token = self._current.set(tx)
            try:
                await self._exec_on_writer("BEGIN IMMEDIATE")
                yield tx
                tx.active = False
                async with tx.children:  # savepoints of spawned tasks still running
                    await self._exec_on_writer("COMMIT")
            except BaseException:
                tx.active = False
                await self._on_writer(_rollback_if_open)
                await _run_callbacks(tx.rollback_callbacks, "after-rollback")
                raise
            finally:
                tx.active = False
                self._current.reset(token)
        await _run_callbacks(tx.callbacks, "after-commit")

    @contextlib.asynccontextmanager
    async def _savepoint(self, parent: _Transaction) -> AsyncIterator[_Transaction]:
        name = f"pbk_sp_{next(_savepoint_names)}"
        tx = _Transaction(self, parent)
        token = self._current.set(tx)
        try:
            await self._exec_on_writer(f"SAVEPOINT {name}")
            try:
                yield tx
                tx.active = False
                await tx.children.acquire()  # savepoints of spawned tasks still running
            except BaseException:
                tx.active = False
                await self._exec_on_writer(f"ROLLBACK TO {name}; RELEASE {name}")
                await _run_callbacks(tx.rollback_callbacks, "after-rollback")
                raise
            try:
                await self._exec_on_writer(f"RELEASE {name}")
            finally:
                tx.children.release()
            parent.callbacks.extend(tx.callbacks)
            parent.rollback_callbacks.extend(tx.rollback_callbacks)
        finally:
            tx.active = False
            self._current.reset(token)

    async def _exec_on_writer(self, sql: str) -> None:
        await self._on_writer(lambda conn: conn.execute(sql))

    def _active_transaction(self) -> _Transaction | None:
        """The innermost transaction of this context that is still open, if any."""
        tx = self._current.get()
        while tx is not None and not tx.active:
            tx = tx.parent
        return tx

    def after_commit(self, callback: Callable[[], Awaitable[None]]) -> None:
        tx = self._active_transaction()
        if tx is None:
            raise RuntimeError("after_commit() needs an open transaction (call it inside write())")
        tx.callbacks.append(callback)

    def after_rollback(self, callback: Callable[[], Awaitable[None]]) -> None:
        tx = self._active_transaction()
        if tx is None:
            raise RuntimeError("after_rollback() needs an open transaction (call it inside write())")
        tx.rollback_callbacks.append(callback)


async def _run_callbacks(callbacks: list[Callable[[], Awaitable[None]]], kind: str) -> None:
    """Run every callback in order; one failing is logged and does not stop the others."""
    for callback in callbacks:
        try:
            await callback()
        except Exception:
            log.exception("%s callback %r failed", kind, callback)
