"""``PgConnection``: a psycopg connection that looks like the part of ``apsw.Connection`` pbk uses.

A plugin's ``db.read``/``db.write`` function gets one on PostgreSQL, so its SQL-running code
stays as it is: ``conn.execute(sql, params)`` with ``?`` placeholders returns a cursor that
iterates tuples (``fetchone``, ``fetchall``, ``get``, ``getdescription``); values come back as
apsw gives them for the same data (JSON as its text, booleans as 0/1, an integral double as an
int); failures are apsw's exception classes (``errors.translate``). The connection runs in
autocommit mode: ``BEGIN``/``COMMIT``/``SAVEPOINT`` are sent as SQL, as pbk does with apsw.

One difference cannot be hidden: after a failed statement PostgreSQL refuses the rest of the
transaction. Code that catches an error and goes on in the same transaction wraps the statement
in ``with conn:`` (a savepoint, on both engines).
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import math
import re
import select
from collections.abc import Iterator, Mapping, Sequence
from decimal import Decimal
from typing import Any, Self

import apsw
import psycopg
from psycopg import pq
from psycopg.adapt import Loader
from psycopg.types.string import TextLoader

from .errors import translate
from .placeholders import to_pyformat

#: int64's range: a double PostgreSQL holds comes back as an int within it when integral,
#: as SQLite's NUMERIC affinity stores such a value as an INTEGER.
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
#: After a writer's asynchronous commit: a transaction whose synchronous commit flushes the WAL
#: up to its own record, past the one before (``PgConnection._commit_then_flush``).
_FLUSH = "SELECT pg_logical_emit_message(true, 'pbk', '')"
#: The statement tags whose row count is ``changes()``.
_CHANGING = re.compile(rb"^(INSERT \d+|UPDATE|DELETE|MERGE) (\d+)$")
_savepoint_names = itertools.count()
log = logging.getLogger(__name__)


def _number(value: float | Decimal) -> int | float:
    if math.isfinite(value):
        integral = int(value)
        if integral == value and _INT64_MIN <= integral <= _INT64_MAX:
            return integral
    return float(value)


class _DoubleLoader(Loader):
    """``double precision`` as SQLite would give it: an int when integral (see ``_number``)."""

    def load(self, data: Any) -> int | float:
        return _number(float(bytes(data)))


class _NumericLoader(Loader):
    """``numeric`` (``SUM`` of integers, ``AVG``) as an int when integral, else a float."""

    def load(self, data: Any) -> int | float:
        raw = bytes(data)
        if raw == b"NaN":
            return float("nan")
        return _number(Decimal(raw.decode()))


class _BoolLoader(Loader):
    """``boolean`` as SQLite's 0/1."""

    def load(self, data: Any) -> int:
        return 1 if bytes(data) == b"t" else 0


#: Types whose text is what SQLite would hold (JSON kept byte for byte, times as text).
_AS_TEXT = ("json", "jsonb", "date", "time", "timetz", "timestamp", "timestamptz", "interval",
            "uuid", "inet", "cidr", "xml", "money")


def configure(conn: psycopg.Connection[Any]) -> None:
    """Make ``conn`` load values as apsw would (see the module docstring)."""
    adapters = conn.adapters
    for name in _AS_TEXT:
        adapters.register_loader(name, TextLoader)
    adapters.register_loader("float8", _DoubleLoader)
    adapters.register_loader("float4", _DoubleLoader)
    adapters.register_loader("numeric", _NumericLoader)
    adapters.register_loader("bool", _BoolLoader)


class PgCursor:
    """The rows of one ``execute``: iterate them, or ``fetchone``/``fetchall``/``get``."""

    def __init__(self, connection: PgConnection, rows: list[tuple[Any, ...]],
                 result: pq.abc.PGresult | None = None) -> None:
        self.connection = connection
        self._rows = rows
        self._result = result  # the (last) row-returning result: its columns describe the rows
        self._description: tuple[tuple[str, str], ...] | None = None
        self._next = 0

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        return self

    def __next__(self) -> tuple[Any, ...]:
        if self._next >= len(self._rows):
            raise StopIteration
        row = self._rows[self._next]
        self._next += 1
        return row

    def fetchone(self) -> tuple[Any, ...] | None:
        return next(self, None)

    def fetchall(self) -> list[tuple[Any, ...]]:
        rest = self._rows[self._next:]
        self._next = len(self._rows)
        return rest

    @property
    def get(self) -> Any:
        """apsw's ``Cursor.get``: None without rows, the value of a one-column row, the row
        tuple, or a list of them for several rows."""
        rows = [row[0] if len(row) == 1 else row for row in self.fetchall()]
        if not rows:
            return None
        return rows[0] if len(rows) == 1 else rows

    def getdescription(self) -> tuple[tuple[str, str], ...]:
        """``(name, type)`` per result column; ``apsw.ExecutionCompleteError`` as apsw raises
        for a statement without result columns."""
        if self._result is None:
            raise apsw.ExecutionCompleteError("Can't get description for statements that have completed execution")
        if self._description is None:  # made when asked: most rows are read by position
            self._description = self.connection._describe(self._result)
        return self._description

    get_description = getdescription  # apsw's newer name

    @property
    def description(self) -> tuple[tuple[str, str, None, None, None, None, None], ...]:
        """DB-API's seven-item description, as apsw gives it."""
        return tuple((name, kind, None, None, None, None, None) for name, kind in self.getdescription())

    @property
    def description_full(self) -> tuple[tuple[str, str, None, str | None, str | None], ...]:
        """apsw's ``(name, type, database, table, column)``: the table and column each result
        column is read from (None for a computed one; a view's column names the view, as
        PostgreSQL's result metadata stops there). Asks the catalog once per table."""
        description = self.getdescription()
        result = self._result
        origins = [(result.ftable(i), result.ftablecol(i)) for i in range(len(description))]
        named = self.connection._column_names({oid for oid, _ in origins if oid})
        return tuple(
            (name, kind, None, *named.get(origin, (None, None)))
            for (name, kind), origin in itertools.zip_longest(description, origins, fillvalue=(0, 0))
        )

    def execute(self, sql: str, params: Sequence[Any] | Mapping[str, Any] | None = None) -> PgCursor:
        return self.connection.execute(sql, params)


class PgConnection:
    """A psycopg connection behind apsw's interface (see the module docstring).

    Made with ``connect(url)`` (connects now) or ``lazy(url)`` (at its first statement, on the
    thread that runs it). A connection the server dropped (a restart, ``pg_terminate_backend``)
    fails the statement in flight with ``apsw.IOError``; the next statement outside a transaction
    connects again. One found dropped while idle is replaced before the statement is sent.
    """

    engine = "postgresql"

    def __init__(self, raw: psycopg.Connection[Any] | None = None, *, url: str | None = None,
                 options: Mapping[str, Any] | None = None, write_lock: int | None = None,
                 trace: bool = False, begin_with_first_statement: bool = False) -> None:
        self._raw = raw
        self._url = url
        #: libpq connection parameters (``options="-c statement_timeout=..."`` ...).
        self._options = dict(options or {})
        #: ``BEGIN IMMEDIATE``, SQLite's "take the write lock now", as PostgreSQL SQL: also
        #: take the transaction-level advisory lock ``write_lock`` (one writer at a time).
        self._lock = None if write_lock is None else f"SELECT pg_advisory_xact_lock({int(write_lock)})"
        self._begin_immediate = "BEGIN" if self._lock is None else f"BEGIN; {self._lock}"
        #: Send ``BEGIN IMMEDIATE`` with the transaction's first statement, in one round trip
        #: (``_begin_with``): the kernel's writer, which always runs a statement next.
        self._begin_with_first_statement = begin_with_first_statement and self._lock is not None
        self._begin_pending = False
        #: ``COMMIT`` lets go of the lock before its flush (``_commit_then_flush``).
        self._flush_after_commit = True
        self._trace = trace
        self._changes = 0
        self._total_changes = 0
        #: Set once the server connection is gone; ``_lost_transaction`` while the transaction
        #: it was in has not been ended (``ROLLBACK``) by its owner.
        self.broken = False
        self._lost_transaction = False
        self._withs: list[tuple[bool, str]] = []  # the open ``with conn:`` blocks
        #: ``raw``'s one cursor (every statement's rows are fetched at once: it is free again
        #: after each) and a poll of its socket: made once, not per statement.
        self._cursor: psycopg.Cursor[Any] | None = None
        self._poller = select.poll()
        if raw is not None:
            self._adopt(raw)

    @classmethod
    def connect(cls, url: str, **options: Any) -> PgConnection:
        """Connect to ``url`` now (``options``: libpq parameters)."""
        conn = cls(url=url, options=options)
        conn._ready()
        return conn

    @classmethod
    def lazy(cls, url: str, *, options: Mapping[str, Any] | None = None, write_lock: int | None = None,
             trace: bool = False, begin_with_first_statement: bool = False) -> PgConnection:
        """A connection to ``url`` made at its first statement (see ``__init__``)."""
        return cls(url=url, options=options, write_lock=write_lock, trace=trace,
                   begin_with_first_statement=begin_with_first_statement)

    @property
    def raw(self) -> psycopg.Connection[Any]:
        """The psycopg connection (connected now if it was not)."""
        return self._ready()

    def _adopt(self, raw: psycopg.Connection[Any]) -> None:
        raw.autocommit = True
        configure(raw)
        self._raw = raw
        self._cursor = raw.cursor()
        self._poller = select.poll()
        self._poller.register(raw.pgconn.socket, select.POLLIN)

    def _ready(self) -> psycopg.Connection[Any]:
        """The live psycopg connection, made again when the old one was dropped (not while
        the transaction it lost is still open: its owner must end it first)."""
        raw = self._raw
        if raw is not None and not self.broken:
            if not _dropped_while_idle(raw, self._poller):
                return raw
            self.broken = True
        if self._lost_transaction:
            raise apsw.IOError("IOError: the connection to PostgreSQL was lost during this transaction")
        if self._url is None:
            raise apsw.IOError("IOError: the connection to PostgreSQL was lost")
        if raw is not None:
            with contextlib.suppress(Exception):
                raw.close()
        try:
            raw = psycopg.connect(self._url, autocommit=True, **{"connect_timeout": 10, **self._options})
        except psycopg.Error as error:
            raise translate(error) from error
        self._adopt(raw)
        self.broken = False
        return raw

    # ------------------------------------------------------------------ statements

    def execute(self, sql: str, params: Sequence[Any] | Mapping[str, Any] | None = None) -> PgCursor:
        """Run ``sql`` (several statements when it binds nothing); ``?`` binds ``params``."""
        if self.broken and self._lost_transaction and sql.strip().upper() == "ROLLBACK":
            self._lost_transaction = False  # the server discarded it with the connection
            return PgCursor(self, [])
        if self._begin_pending:
            self._begin_pending = False
            if sql in ("COMMIT", "ROLLBACK"):
                return PgCursor(self, [])  # nothing ran: nothing to end
            return self._begin_with(sql, params)
        raw = self._ready()
        if sql == "BEGIN IMMEDIATE":
            if self._begin_with_first_statement and raw.pgconn.transaction_status == pq.TransactionStatus.IDLE:
                self._begin_pending = True
                return PgCursor(self, [])
            sql = self._begin_immediate
        elif sql == "COMMIT" and self._lock is not None:
            return self._commit_then_flush(raw)
        query = to_pyformat(sql, isinstance(params, Mapping)) if params else sql
        if self._trace:
            log.debug("SQL %s %r", sql.strip(), params)
        in_transaction = raw.pgconn.transaction_status != pq.TransactionStatus.IDLE
        try:
            rows, result = self._results(self._cursor.execute(query, params or None))  # type: ignore[arg-type, union-attr]
        except psycopg.Error as error:
            failed = self._failed(error, in_transaction)
            if not (self.broken and not in_transaction and sql.startswith("BEGIN")):
                raise failed from error
            # Dropped just before a transaction began: nothing ran, so begin on a new one.
            cur = self._ready().execute(query)
            rows, result = self._results(cur)
        return PgCursor(self, rows, result)

    def _begin_with(self, sql: str, params: Sequence[Any] | Mapping[str, Any] | None, *,
                    again: bool = True) -> PgCursor:
        """``BEGIN``, the advisory lock and ``sql`` in one round trip: one text when ``sql`` binds
        nothing, else a pipeline. The lock's wait and the statement run back to back on the
        server, instead of the statement waiting for this thread to hear the lock was granted.
        A connection found dropped here lost nothing yet: the whole is sent again on a new one."""
        raw = self._ready()
        if self._trace:
            log.debug("SQL %s; %s %r", self._begin_immediate, sql.strip(), params)
        try:
            if params:
                with raw.pipeline():
                    raw.execute("BEGIN")
                    raw.execute(self._lock)  # type: ignore[arg-type]
                    cur = self._cursor.execute(to_pyformat(sql, isinstance(params, Mapping)), params)  # type: ignore[arg-type, union-attr]
                rows, result = self._results(cur)
            else:
                rows, result = self._results(self._cursor.execute(f"{self._begin_immediate}; {sql}"), skip=2)  # type: ignore[union-attr]
        except psycopg.Error as error:
            failed = self._failed(error, True)
            if not (self.broken and again):
                raise failed from error
            self._lost_transaction = False  # it had not begun: nothing of it ran
            return self._begin_with(sql, params, again=False)
        return PgCursor(self, rows, result)

    def _commit_then_flush(self, raw: psycopg.Connection[Any]) -> PgCursor:
        """``COMMIT`` of a writer, the advisory lock released before the commit's WAL is flushed
        to disk, and the flush waited for after: the next writer need not wait for this one's
        fsync, and flushes of several writers are one when they overlap. The commit itself is
        asynchronous (``synchronous_commit`` off for it), and the statement after it in the same
        text, a transaction of its own that is synchronous, waits for the flush of the WAL up to
        its own commit record, which holds this commit's. So ``COMMIT`` returns only once the
        transaction is durable, as before; other connections may see it up to one flush earlier.
        (A transaction that writes no WAL of its own commits without a flush, so the one after
        writes a logical decoding message: a few bytes of WAL, ignored by logical replication
        unless asked for, and no lock.)"""
        flushed_after = self._flush_after_commit and raw.pgconn.transaction_status == pq.TransactionStatus.INTRANS
        # Else an aborted transaction (PostgreSQL rolls it back), none, or a role that may not
        # write the message: a plain COMMIT.
        sql = f"SET LOCAL synchronous_commit TO off; COMMIT; {_FLUSH}" if flushed_after else "COMMIT"
        if self._trace:
            log.debug("SQL %s", sql)
        try:
            self._cursor.execute(sql)  # type: ignore[union-attr]
        except (psycopg.errors.InsufficientPrivilege, psycopg.errors.UndefinedFunction) as error:
            if not flushed_after:
                raise self._failed(error, True) from error
            # Committed; only the message was refused: commit synchronously from now on.
            log.warning("PostgreSQL refused pg_logical_emit_message (%s): commits wait for the disk "
                        "inside the write lock", error)
            self._flush_after_commit = False
        except psycopg.Error as error:
            raise self._failed(error, True) from error
        return PgCursor(self, [])

    def executemany(self, sql: str, seq_of_params: Sequence[Sequence[Any]]) -> PgCursor:
        raw = self._ready()
        query = to_pyformat(sql)
        in_transaction = raw.pgconn.transaction_status != pq.TransactionStatus.IDLE
        try:
            with raw.cursor() as cur:
                cur.executemany(query, seq_of_params)  # type: ignore[arg-type]
                self._count(cur.rowcount, cur.pgresult)
        except psycopg.Error as error:
            raise self._failed(error, in_transaction) from error
        return PgCursor(self, [])

    def _results(self, cur: psycopg.Cursor[Any], skip: int = 0) -> tuple[
            list[tuple[Any, ...]], pq.abc.PGresult | None]:
        """Every result's rows in order (apsw runs each statement of a text in turn), the last
        row-returning result, and each writing statement's row count; the first ``skip``
        results (a ``BEGIN`` sent along) are left out."""
        rows: list[tuple[Any, ...]] = []
        returning = None
        while True:
            result = cur.pgresult
            if skip:
                skip -= 1
            elif result is not None and result.status == pq.ExecStatus.TUPLES_OK:
                returning = result
                rows.extend(cur.fetchall())
            elif result is not None:
                self._count(cur.rowcount, result)
            if not cur.nextset():
                return rows, returning

    def _count(self, rowcount: int, result: pq.abc.PGresult | None) -> None:
        status = result.command_status if result is not None else None
        if status and _CHANGING.match(status):
            self._changes = rowcount
            self._total_changes += rowcount

    def _failed(self, error: psycopg.Error, in_transaction: bool) -> apsw.Error:
        translated = translate(error)
        raw = self._raw
        if getattr(translated, "connection_lost", False) or raw is None or raw.closed or raw.broken:
            self.broken = True
            self._lost_transaction = in_transaction
        return translated

    def _describe(self, result: pq.abc.PGresult) -> tuple[tuple[str, str], ...]:
        """``(name, type)`` of each column of ``result``, as psycopg's ``cursor.description``
        names them (built only when asked: psycopg's costs more than a short statement)."""
        raw = self._raw or self._ready()
        types, encoding = raw.adapters.types, raw.info.encoding
        described = []
        for i in range(result.nfields):
            name = result.fname(i)
            oid = result.ftype(i)
            info = types.get(oid)
            described.append((name.decode(encoding) if name else f"column_{i + 1}",
                              info.get_type_display(oid=oid, fmod=result.fmod(i)) if info else str(oid)))
        return tuple(described)

    def _column_names(self, tables: set[int]) -> dict[tuple[int, int], tuple[str, str]]:
        """``(table oid, column number) -> (table name, column name)`` for ``tables``."""
        if not tables:
            return {}
        found = self.execute(
            "SELECT a.attrelid::bigint, a.attnum, c.relname, a.attname FROM pg_catalog.pg_attribute a "
            "JOIN pg_catalog.pg_class c ON c.oid = a.attrelid WHERE a.attrelid = ANY(?::oid[]) AND a.attnum > 0",
            (sorted(tables),))
        return {(oid, number): (table, column) for oid, number, table, column in found}

    def changes(self) -> int:
        """Rows changed by the last INSERT, UPDATE or DELETE (as SQLite's ``changes()``)."""
        return self._changes

    def total_changes(self) -> int:
        """Rows changed by every INSERT, UPDATE and DELETE on this connection."""
        return self._total_changes

    def cursor(self) -> PgCursor:
        """An empty cursor whose ``execute`` runs on this connection (apsw's ``conn.cursor()``)."""
        return PgCursor(self, [])

    # ------------------------------------------------------------------ transactions

    @property
    def in_transaction(self) -> bool:
        """Whether a transaction is open (also one a failed statement has aborted, or one the
        lost connection took with it, until ``ROLLBACK``)."""
        if self._begin_pending:
            return True
        if self.broken or self._raw is None:
            return self._lost_transaction
        return self._raw.pgconn.transaction_status in (pq.TransactionStatus.INTRANS,
                                                      pq.TransactionStatus.INERROR)

    def __enter__(self) -> Self:
        """``with conn:`` as apsw: a savepoint (beginning a transaction when none is open),
        released on success, rolled back to on an exception."""
        outer = not self.in_transaction
        name = f"pbk_with_{next(_savepoint_names)}"
        self.execute("BEGIN" if outer else f"SAVEPOINT {name}")
        self._withs.append((outer, name))
        return self

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> bool:
        outer, name = self._withs.pop()
        if self.broken:
            if outer:
                self._lost_transaction = False
            return False
        if kind is None:
            self.execute("COMMIT" if outer else f"RELEASE {name}")
        else:
            self.execute("ROLLBACK" if outer else f"ROLLBACK TO {name}; RELEASE {name}")
        return False

    # ------------------------------------------------------------------ lifetime

    @property
    def closed(self) -> bool:
        return self._raw is None or bool(self._raw.closed)

    def close(self) -> None:
        if self._raw is not None:
            self._raw.close()

    def cancel(self) -> None:
        """Ask the server to stop the statement running now (from another thread)."""
        raw = self._raw
        if raw is not None:
            with contextlib.suppress(psycopg.Error):
                raw.cancel_safe()


def _dropped_while_idle(raw: psycopg.Connection[Any], poller: select.poll) -> bool:
    """Whether the server closed ``raw`` while it sat idle (it then sends an error and closes
    the socket: readable with nothing asked); one ``poller`` poll of its socket, skipped inside
    a transaction."""
    if raw.closed or raw.broken:
        return True
    if raw.pgconn.transaction_status != pq.TransactionStatus.IDLE:
        return False
    # NOTE: nothing else arrives unasked on these connections (no LISTEN); a rare notice would
    # only cost a new connection.
    return bool(poller.poll(0))
