"""SQLite through APSW, kept off the event loop.

One writer thread with its own connection serialises every write; a small pool of reader
threads with their own connections serve reads concurrently (WAL). ``transaction()`` lets
async code (event handlers, batch requests) group several writes into one transaction; the
current transaction travels in a context variable, so nested ``write``/``read`` calls made
inside it join it as savepoints instead of dead-locking on the writer.

Each hop to a thread costs more than a small query (future chaining, a worker wake-up, a GIL
hand-over), so the hops are kept few: a transaction's ``BEGIN IMMEDIATE`` travels with its first
statement (nothing is locked before it needs to be), a ``write()`` outside a transaction is one
hop (BEGIN, the function, COMMIT), a ``write()`` inside one is one hop (SAVEPOINT, the function,
RELEASE), and ``read_inline()`` runs tiny reads (a primary-key lookup) on a connection owned by
the event loop thread, falling back to a reader thread when one takes longer than a small budget
of SQLite steps or meets a lock. The WAL is checkpointed on a thread of its own, never inside a
commit (which may be on the event loop), once it holds ``CHECKPOINT_PAGES``.
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
from pbk_sdk.errors import QueryTimeoutError

T = TypeVar("T")
log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 10_000
#: read_inline(): SQLite VM steps between progress checks, and checks allowed, before the
#: read is abandoned on the event loop and re-run on a reader thread (about 0.2 ms of work).
INLINE_TICK_STEPS = 1000
INLINE_TICKS = 20
#: ... or seconds on the event loop, whichever comes first: steps that wait on the disk (pages
#: not in the cache, a busy disk) take far longer than 0.2 ms for the same count.
INLINE_SECONDS = 0.005
#: WAL pages after a commit that start a checkpoint: SQLite's own automatic threshold, but run
#: on a thread of its own (see ``Database._after_commit``).
CHECKPOINT_PAGES = 1000
_savepoint_names = itertools.count()


def open_connection(path: Path, *, writer: bool, trace_sql: bool = False) -> apsw.Connection:
    """Open ``path`` with pbk's pragmas (WAL, foreign keys, NORMAL sync, no DQS)."""
    conn = apsw.Connection(str(path))
    # NOTE: busy handler first, so a second process switching to WAL waits instead of failing.
    conn.set_busy_handler(_busy_wait)
    # apsw.bestpractice's connection_wal, _enable_foreign_keys, _dqs and _recursive_triggers,
    # inlined: importing apsw.bestpractice pulls in apsw.ext, tens of ms of every start-up.
    try:
        if not conn.readonly("main"):
            conn.pragma("journal_mode", "wal")
    except apsw.ReadOnlyError:
        pass
    conn.pragma("foreign_keys", "ON")
    conn.config(apsw.SQLITE_DBCONFIG_DQS_DML, 0)
    conn.config(apsw.SQLITE_DBCONFIG_DQS_DDL, 0)
    conn.pragma("recursive_triggers", "ON")
    conn.pragma("synchronous", "NORMAL")
    conn.pragma("cache_size", -32_000)
    conn.pragma("temp_store", "MEMORY")
    if writer:
        # Take the write lock at BEGIN, not halfway through a transaction.
        conn.transaction_mode = "IMMEDIATE"
    if trace_sql:
        conn.exec_trace = _trace_sql
    return conn


def _busy_wait(attempts: int) -> bool:
    """Retry a locked database every 50 µs, then less often (up to every 2 ms), for about
    ``BUSY_TIMEOUT_MS``. SQLite's own busy timeout sleeps 1, 2, 5, 10 ms ... while another
    worker process's write transaction usually ends within a fraction of a millisecond."""
    if attempts >= BUSY_ATTEMPTS:
        return False
    time.sleep(_busy_delay(attempts))
    return True


def _busy_delay(attempts: int) -> float:
    return min(0.00005 * (attempts + 1), 0.002)


def _attempts_within(seconds: float) -> int:
    slept = attempts = 0
    while slept < seconds:
        slept += _busy_delay(attempts)
        attempts += 1
    return attempts


#: Attempts that add up to BUSY_TIMEOUT_MS of sleeping.
BUSY_ATTEMPTS = _attempts_within(BUSY_TIMEOUT_MS / 1000)


def _rollback_if_open(conn: apsw.Connection) -> None:
    if conn.in_transaction:
        conn.execute("ROLLBACK")


def _commit_if_open(conn: apsw.Connection) -> None:
    if conn.in_transaction:
        conn.execute("COMMIT")


def _begin_without_waiting(conn: apsw.Connection) -> bool:
    """``BEGIN IMMEDIATE`` on the event loop thread, which must never wait: False when another
    process holds the write lock (the caller then goes to the writer thread, which waits)."""
    conn.set_busy_timeout(0)
    try:
        conn.execute("BEGIN IMMEDIATE")
    except apsw.BusyError:
        return False
    finally:
        conn.set_busy_handler(_busy_wait)
    return True


def _begun(conn: apsw.Connection, fn: Callable[..., T], args: tuple[Any, ...]) -> T:
    """Run ``fn`` inside the current root transaction, beginning it first if nothing has yet."""
    if not conn.in_transaction:
        conn.execute("BEGIN IMMEDIATE")
    return fn(conn, *args)


class _Hop:
    """One call on the writer; ``cancelled`` is set from the loop when its task is cancelled."""

    __slots__ = ("cancelled",)

    def __init__(self) -> None:
        self.cancelled = False


def _whole_transaction(
    conn: apsw.Connection, fn: Callable[..., T], args: tuple[Any, ...], hop: _Hop
) -> T:
    """BEGIN, ``fn``, COMMIT in one call on the writer thread; ROLLBACK when anything fails
    or the task was cancelled meanwhile (as a cancelled ``write`` always has been)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        result = fn(conn, *args)
        if hop.cancelled:
            raise _CancelledOnWriter()
        conn.execute("COMMIT")
    except BaseException:
        _rollback_if_open(conn)
        raise
    return result


def _in_savepoint(
    conn: apsw.Connection, fn: Callable[..., T], args: tuple[Any, ...], hop: _Hop
) -> T:
    """SAVEPOINT, ``fn``, RELEASE in one call on the writer thread (the root begun if needed)."""
    if not conn.in_transaction:
        conn.execute("BEGIN IMMEDIATE")
    name = f"pbk_sp_{next(_savepoint_names)}"
    conn.execute(f"SAVEPOINT {name}")
    try:
        result = fn(conn, *args)
        if hop.cancelled:
            raise _CancelledOnWriter()
    except BaseException:
        if conn.in_transaction:
            conn.execute(f"ROLLBACK TO {name}; RELEASE {name}")
        raise
    conn.execute(f"RELEASE {name}")
    return result


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
        # Root only: whether any statement ran (BEGIN is sent lazily with the first one).
        self.used = False

    @property
    def root(self) -> _Transaction:
        tx = self
        while tx.parent is not None:
            tx = tx.parent
        return tx


class Database:
    """An SQLite file with a writer thread and reader threads (see module docstring)."""

    engine = "sqlite"

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
        self._checkpointer = ThreadPoolExecutor(1, thread_name_prefix=f"pbk-db-checkpoint-{self.path.stem}")
        self._checkpoint_conn: apsw.Connection | None = None
        self._checkpointing = False
        self._write_lock: asyncio.Lock | None = None
        #: calls submitted to the writer thread and not yet seen done by the event loop
        self._writer_calls = 0
        self._closed = False
        # read_inline(): a reader connection used only from the event loop thread.
        self._loop_conn: apsw.Connection | None = None
        self._loop_thread: int | None = None
        self._inline_ticks = 0
        self._inline_deadline = 0.0

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
        await loop.run_in_executor(None, self._checkpointer.shutdown, True)
        self._loop_conn = None
        with self._connections_lock:
            for conn in self._connections:
                conn.close()
            self._connections.clear()

    def _writer_connection(self) -> apsw.Connection:
        if self._writer_conn is None:
            conn = self._register(open_connection(self.path, writer=True, trace_sql=self._trace_sql))
            conn.pragma("wal_autocheckpoint", 0)
            conn.set_wal_hook(self._after_commit)
            self._writer_conn = conn
        return self._writer_conn

    def _after_commit(self, conn: apsw.Connection, name: str, pages: int) -> int:
        """SQLite's WAL hook, called by each commit of the writer connection, on the event loop
        for an inline write: the checkpoint SQLite would run inside that commit (copying up to
        4 MB into the database and syncing it, tens of ms) goes to a thread of its own."""
        if pages >= CHECKPOINT_PAGES and not self._checkpointing and not self._closed:
            self._checkpointing = True
            self._checkpointer.submit(self._checkpoint)
        return apsw.SQLITE_OK

    def _checkpoint_connection(self) -> apsw.Connection:
        if self._checkpoint_conn is None:
            self._checkpoint_conn = self._register(open_connection(self.path, writer=False))
        return self._checkpoint_conn

    def _checkpoint(self) -> None:
        try:
            self._checkpoint_connection().wal_checkpoint(mode=apsw.SQLITE_CHECKPOINT_PASSIVE)
        except apsw.BusyError:
            pass  # another process is checkpointing this file now: a later commit asks again
        except Exception:
            log.exception("checkpoint of %s failed", self.path.name)
        finally:
            self._checkpointing = False

    def _reader_connection(self) -> apsw.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._register(open_connection(self.path, writer=False, trace_sql=self._trace_sql))
            conn.set_progress_handler(self._check_deadline, 1000)
            self._local.conn = conn
        return conn

    def _inline_connection(self) -> apsw.Connection:
        conn = self._loop_conn
        if conn is None:
            conn = self._register(open_connection(self.path, writer=False, trace_sql=self._trace_sql))
            # NOTE: never wait on the event loop thread: a lock means "use a reader thread".
            conn.set_busy_timeout(0)
            conn.set_progress_handler(self._inline_over_budget, INLINE_TICK_STEPS)
            self._loop_conn = conn
            self._loop_thread = threading.get_ident()
        return conn

    def _inline_over_budget(self) -> bool:
        self._inline_ticks += 1
        return self._inline_ticks > INLINE_TICKS or time.monotonic() > self._inline_deadline

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
            return await self._in_transaction(fn, *args)
        loop = asyncio.get_running_loop()
        ctx = contextvars.copy_context()
        return await loop.run_in_executor(self._readers, ctx.run, self._run_read, fn, args)

    async def read_inline(self, fn: Callable[..., T], *args: Any) -> T:
        """``read()`` for tiny, side-effect-free reads (a lookup by primary key).

        Runs ``fn`` right here on the event loop thread's own connection, skipping the hop to a
        reader thread, which costs more than such a query. ``fn`` may be run twice: when it takes
        more than a small budget of SQLite steps, or meets a lock, it is interrupted and run again
        on a reader thread, so it must only read. Inside a transaction it runs on the writer,
        as ``read()`` does.
        """
        if self._closed:
            raise RuntimeError(f"database {self.path.name} is closed")
        if self._active_transaction() is not None:
            return await self._in_transaction(fn, *args)
        if self._loop_thread is not None and self._loop_thread != threading.get_ident():
            return await self.read(fn, *args)  # another event loop (tests, CLI): no sharing
        conn = self._inline_connection()
        self._inline_ticks = 0
        self._inline_deadline = time.monotonic() + INLINE_SECONDS
        try:
            return fn(conn, *args)
        except (apsw.InterruptError, apsw.BusyError, apsw.LockedError):
            pass
        finally:
            _end_read(conn)
        return await self.read(fn, *args)

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

    async def write(
        self,
        fn: Callable[..., T],
        *args: Any,
        on_commit: Callable[[], Awaitable[None]] | None = None,
        inline: bool = False,
    ) -> T:
        """Run ``fn(conn, *args)`` on the writer in a transaction of its own (or a savepoint of
        the current one), in one hop. ``on_commit`` runs after the commit that makes it durable
        (the enclosing transaction's, when there is one), as ``after_commit`` would.

        ``inline``: ``fn`` is short (a few statements by key), so run it with the writer's
        connection right here on the event loop thread, skipping the hop: outside a transaction
        unless another process holds the write lock (then it waits on the writer thread), inside
        one when the transaction has begun and nothing else of it is on the writer thread.
        As with ``read_inline``, a run past a small budget of SQLite steps (a rule scanning a
        big table) is undone and run again on the writer thread, so ``fn`` may run twice."""
        while (parent := self._active_transaction()) is not None:
            async with parent.children:  # sibling savepoints take turns (see transaction())
                if parent.active:
                    tx = _Transaction(self, parent)
                    parent.root.used = True
                    token = self._current.set(tx)
                    cancelled = False
                    try:
                        hop = _Hop()
                        result = await self._savepoint_write(tx, fn, args, hop, inline=inline)
                    except _CancelledAfterSuccess:
                        cancelled = True  # released: its fate is the enclosing transaction's
                    except BaseException:
                        tx.active = False
                        await _run_callbacks(tx.rollback_callbacks, "after-rollback")
                        raise
                    finally:
                        tx.active = False
                        self._current.reset(token)
                    parent.callbacks.extend(tx.callbacks)
                    if on_commit is not None:
                        parent.callbacks.append(on_commit)
                    parent.rollback_callbacks.extend(tx.rollback_callbacks)
                    if cancelled:
                        raise asyncio.CancelledError()
                    return result
        if self._closed or self._write_lock is None:
            raise RuntimeError(f"database {self.path.name} is not open")
        async with self._write_lock:
            tx = _Transaction(self, None)
            tx.used = True
            token = self._current.set(tx)
            committed = False
            try:
                done, result = self._write_inline(fn, args) if inline else (False, None)
                if not done:
                    tx.callbacks.clear()  # of an inline run that was undone
                    tx.rollback_callbacks.clear()
                    hop = _Hop()
                    result = await self._on_writer(_whole_transaction, fn, args, hop, hop=hop)
                committed = True
            except _CancelledAfterSuccess as cancelled:
                # The work committed before the cancellation arrived: say so to the callbacks.
                tx.active = False
                self._current.reset(token)
                token = None
                if on_commit is not None:
                    tx.callbacks.append(on_commit)
                await asyncio.shield(_run_callbacks(tx.callbacks, "after-commit"))
                raise asyncio.CancelledError() from cancelled
            except BaseException:
                tx.active = False
                await _run_callbacks(tx.rollback_callbacks, "after-rollback")
                raise
            finally:
                tx.active = False
                if token is not None:
                    self._current.reset(token)
        if committed and on_commit is not None:
            tx.callbacks.append(on_commit)
        await _run_callbacks(tx.callbacks, "after-commit")
        return result

    async def vacuum(self) -> None:
        """``VACUUM`` the file on the writer thread, outside any transaction (SQLite refuses one
        inside), then checkpoint and truncate the WAL so the freed pages leave the disk now. Waits for the
        writes in progress; raises ``RuntimeError`` when called inside ``transaction()``."""
        if self._active_transaction() is not None:
            raise RuntimeError(f"cannot VACUUM {self.path.name} inside a transaction")
        if self._closed or self._write_lock is None:
            raise RuntimeError(f"database {self.path.name} is not open")
        async with self._write_lock:
            await self._on_writer(_vacuum)
            # On the checkpoint thread, after the checkpoint the VACUUM's commit may have started:
            # run at the same time, one of the two is refused and the WAL keeps its pages.
            await asyncio.get_running_loop().run_in_executor(self._checkpointer, self._truncate_wal)

    def _truncate_wal(self) -> None:
        self._checkpoint_connection().wal_checkpoint(mode=apsw.SQLITE_CHECKPOINT_TRUNCATE)

    def _write_inline(self, fn: Callable[..., T], args: tuple[Any, ...]) -> tuple[bool, T | None]:
        """BEGIN, ``fn``, COMMIT on this thread; ``(False, None)`` if the lock is taken.

        The caller holds ``_write_lock``, so the writer thread is idle and its connection free.
        """
        conn = self._writer_conn
        if conn is None or self._closed or not _begin_without_waiting(conn):
            return False, None
        try:
            result = self._within_budget(conn, fn, args)
            conn.execute("COMMIT")
        except _OverBudget:
            _rollback_if_open(conn)
            return False, None
        except BaseException:
            _rollback_if_open(conn)
            raise
        return True, result

    async def _savepoint_write(
        self, tx: _Transaction, fn: Callable[..., T], args: tuple[Any, ...], hop: _Hop, *, inline: bool
    ) -> T:
        """``fn`` in a savepoint of the open transaction: here when ``inline`` and the writer's
        connection is free (within the step budget), else (or when over it) on the writer."""
        if inline and self._writer_here_in_transaction():
            conn = self._writer_connection()
            try:
                return _in_savepoint(conn, self._within_budget, (fn, args), hop)
            except _OverBudget:
                tx.callbacks.clear()  # of the run that was undone
                tx.rollback_callbacks.clear()
        return await self._on_writer(_in_savepoint, fn, args, hop, hop=hop)

    def _within_budget(self, conn: apsw.Connection, fn: Callable[..., T], args: tuple[Any, ...]) -> T:
        """``fn(conn, *args)`` on the event loop thread with ``read_inline``'s step budget:
        past it, its next read-only statement is interrupted and ``_OverBudget`` raised (even
        when ``fn`` swallowed the interruption), for the caller to undo it and run it again on
        the writer thread. Writing statements are never interrupted: SQLite would roll back
        the whole transaction, an enclosing one's earlier work included."""
        budget = _StepBudget(conn.exec_trace)
        conn.exec_trace = budget.trace
        conn.set_progress_handler(budget.over, INLINE_TICK_STEPS)
        try:
            result = fn(conn, *args)
        except apsw.InterruptError:
            if budget.spent:
                raise _OverBudget() from None
            raise
        finally:
            conn.set_progress_handler(None)
            conn.exec_trace = budget.previous
        if budget.spent:
            raise _OverBudget()
        return result

    def _writer_idle_in_transaction(self) -> bool:
        """Whether the open transaction has begun and no call of it is on the writer thread, so
        its connection may be used on this thread (a savepoint of a batch's many writes)."""
        conn = self._writer_conn
        return self._writer_calls == 0 and conn is not None and conn.in_transaction

    def _writer_here_in_transaction(self) -> bool:
        """``_writer_idle_in_transaction``, or the transaction has not begun (nothing of it ran
        yet) and begins here, unless another process holds the write lock."""
        if self._writer_idle_in_transaction():
            return True
        conn = self._writer_conn
        return self._writer_calls == 0 and conn is not None and not self._closed and _begin_without_waiting(conn)

    async def _in_transaction(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn`` on the writer inside the current transaction (BEGIN sent first if needed)."""
        tx = self._active_transaction()
        if tx is not None:
            tx.root.used = True
        return await self._on_writer(_begun, fn, args)

    async def _on_writer(
        self, fn: Callable[..., T], *args: Any, hop: _Hop | None = None
    ) -> T:
        loop = asyncio.get_running_loop()
        ctx = contextvars.copy_context()
        future = loop.run_in_executor(self._writer, ctx.run, fn, self._writer_connection(), *args)
        self._writer_calls += 1
        future.add_done_callback(self._writer_call_done)
        try:
            return await asyncio.shield(future)
        except asyncio.CancelledError:
            # NOTE: a cancelled request must not leave the transaction bookkeeping behind the
            # connection's real state: let the statement finish, then pass the cancellation on.
            if hop is not None:
                hop.cancelled = True  # the writer rolls back instead of committing, if in time
            await asyncio.wait([future])
            if hop is not None and not future.cancelled() and future.exception() is None:
                raise _CancelledAfterSuccess() from None
            raise

    async def _on_writer_or_here(self, fn: Callable[..., T], *args: Any) -> T:
        """``_on_writer`` for a statement of a begun transaction that cannot wait (SAVEPOINT,
        RELEASE, COMMIT): run here when nothing of the transaction is on the writer thread."""
        if self._writer_idle_in_transaction():
            return fn(self._writer_connection(), *args)
        return await self._on_writer(fn, *args)

    def _writer_call_done(self, _: Any) -> None:
        self._writer_calls -= 1

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
                # NOTE: BEGIN IMMEDIATE goes with the first statement (_begun, _in_savepoint).
                yield tx
                tx.active = False
                async with tx.children:  # savepoints of spawned tasks still running
                    if tx.used:
                        await self._on_writer_or_here(_commit_if_open)
            except BaseException:
                tx.active = False
                # A cancellation can land while COMMIT runs: the statement finishes first
                # (_on_writer waits for it), so the connection says whether it committed.
                committed = tx.used and self._writer_conn is not None and not self._writer_conn.in_transaction
                if committed:
                    await asyncio.shield(_run_callbacks(tx.callbacks, "after-commit"))
                    raise
                if tx.used:
                    await self._on_writer(_rollback_if_open)
                await asyncio.shield(_run_callbacks(tx.rollback_callbacks, "after-rollback"))
                raise
            finally:
                tx.active = False
                self._current.reset(token)
        # Shielded: a request cancelled now must not cut the after-commit work short.
        await asyncio.shield(_run_callbacks(tx.callbacks, "after-commit"))

    @contextlib.asynccontextmanager
    async def _savepoint(self, parent: _Transaction) -> AsyncIterator[_Transaction]:
        name = f"pbk_sp_{next(_savepoint_names)}"
        tx = _Transaction(self, parent)
        token = self._current.set(tx)
        try:
            parent.root.used = True
            await self._on_writer_or_here(_begun, lambda conn: conn.execute(f"SAVEPOINT {name}"), ())
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
                await self._on_writer_or_here(lambda conn: conn.execute(f"RELEASE {name}"))
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

    @property
    def in_transaction(self) -> bool:
        """Whether this task (or the ``write`` function it runs) is inside an open write
        transaction of this database, so a write now joins it as a savepoint."""
        return self._active_transaction() is not None

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


class _StepBudget:
    """The progress handler of one inline write, and the statement kind it may interrupt."""

    __slots__ = ("deadline", "previous", "readonly", "spent", "ticks")

    def __init__(self, previous: Any) -> None:
        self.previous = previous  # the connection's own exec tracer (trace_sql), chained
        self.readonly = True
        self.spent = False
        self.ticks = 0
        self.deadline = time.monotonic() + INLINE_SECONDS

    def trace(self, cursor: apsw.Cursor, sql: str, bindings: Any) -> bool:
        self.readonly = cursor.is_readonly
        return self.previous is None or bool(self.previous(cursor, sql, bindings))

    def over(self) -> bool:
        self.ticks += 1
        if (self.ticks > INLINE_TICKS or time.monotonic() > self.deadline) and self.readonly:
            self.spent = True
        return self.spent and self.readonly


class _OverBudget(Exception):
    """Internal: an inline write ran past its step budget and was interrupted."""


class _CancelledOnWriter(Exception):
    """Internal: the writer saw the cancellation before committing and rolled back."""


class _CancelledAfterSuccess(Exception):
    """Internal: the request was cancelled, but the writer had already committed its work."""


def _vacuum(conn: apsw.Connection) -> None:
    """VACUUM builds a copy of the whole database in the temp store: a file here (deleted when
    done), never this worker's memory, where ``temp_store=MEMORY`` would put it."""
    conn.pragma("temp_store", "FILE")
    try:
        conn.execute("VACUUM")
    finally:
        conn.pragma("temp_store", "MEMORY")


def _end_read(conn: apsw.Connection) -> None:
    """Leave no read transaction open on the inline connection (it would pin the WAL)."""
    if conn.in_transaction:
        with contextlib.suppress(apsw.Error):
            conn.execute("ROLLBACK")


async def _run_callbacks(callbacks: list[Callable[[], Awaitable[None]]], kind: str) -> None:
    """Run every callback in order; one failing is logged and does not stop the others."""
    for callback in callbacks:
        try:
            await callback()
        except Exception:
            log.exception("%s callback %r failed", kind, callback)
