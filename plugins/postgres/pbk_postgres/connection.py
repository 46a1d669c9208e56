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

import itertools
import math
import re
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
#: The statement tags whose row count is ``changes()``.
_CHANGING = re.compile(rb"^(INSERT \d+|UPDATE|DELETE|MERGE) (\d+)$")
_savepoint_names = itertools.count()


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
                 description: list[tuple[str, str]] | None) -> None:
        self.connection = connection
        self._rows = rows
        self._description = description
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
        if self._description is None:
            raise apsw.ExecutionCompleteError("Can't get description for statements that have completed execution")
        return tuple(self._description)

    @property
    def description(self) -> tuple[tuple[str, str, None, None, None, None, None], ...]:
        """DB-API's seven-item description, as apsw gives it."""
        return tuple((name, kind, None, None, None, None, None) for name, kind in self.getdescription())

    def execute(self, sql: str, params: Sequence[Any] | Mapping[str, Any] | None = None) -> PgCursor:
        return self.connection.execute(sql, params)


class PgConnection:
    """A psycopg connection behind apsw's interface (see the module docstring)."""

    def __init__(self, raw: psycopg.Connection[Any]) -> None:
        self.raw = raw
        raw.autocommit = True
        configure(raw)
        self._changes = 0
        self._total_changes = 0
        #: Set once the server connection is gone (a restart, ``pg_terminate_backend``): the
        #: database replaces the connection instead of using it again.
        self.broken = False
        self._withs: list[tuple[bool, str]] = []  # the open ``with conn:`` blocks

    @classmethod
    def connect(cls, url: str, **kwargs: Any) -> PgConnection:
        try:
            raw = psycopg.connect(url, autocommit=True, **kwargs)
        except psycopg.Error as error:
            raise translate(error) from error
        return cls(raw)

    engine = "postgresql"

    # ------------------------------------------------------------------ statements

    def execute(self, sql: str, params: Sequence[Any] | Mapping[str, Any] | None = None) -> PgCursor:
        """Run ``sql`` (several statements when it binds nothing); ``?`` binds ``params``."""
        query = to_pyformat(sql) if params else sql
        try:
            cur = self.raw.execute(query, params or None)  # type: ignore[arg-type]
            rows, description = self._results(cur)
        except psycopg.Error as error:
            raise self._failed(error) from error
        return PgCursor(self, rows, description)

    def executemany(self, sql: str, seq_of_params: Sequence[Sequence[Any]]) -> PgCursor:
        query = to_pyformat(sql)
        try:
            with self.raw.cursor() as cur:
                cur.executemany(query, seq_of_params)  # type: ignore[arg-type]
                self._count(cur.rowcount, cur.pgresult)
        except psycopg.Error as error:
            raise self._failed(error) from error
        return PgCursor(self, [], None)

    def _results(self, cur: psycopg.Cursor[Any]) -> tuple[list[tuple[Any, ...]], list[tuple[str, str]] | None]:
        """Every result's rows in order (apsw runs each statement of a text in turn), the last
        row-returning one's columns, and each writing statement's row count."""
        rows: list[tuple[Any, ...]] = []
        description: list[tuple[str, str]] | None = None
        while True:
            result = cur.pgresult
            if result is not None and result.status == pq.ExecStatus.TUPLES_OK:
                description = [(c.name, c.type_display) for c in cur.description or ()]
                rows.extend(cur.fetchall())
            elif result is not None:
                self._count(cur.rowcount, result)
            if not cur.nextset():
                return rows, description

    def _count(self, rowcount: int, result: pq.abc.PGresult | None) -> None:
        status = result.command_status if result is not None else None
        if status and _CHANGING.match(status):
            self._changes = rowcount
            self._total_changes += rowcount

    def _failed(self, error: psycopg.Error) -> apsw.Error:
        translated = translate(error)
        if getattr(translated, "connection_lost", False) or self.raw.closed or self.raw.broken:
            self.broken = True
        return translated

    def changes(self) -> int:
        """Rows changed by the last INSERT, UPDATE or DELETE (as SQLite's ``changes()``)."""
        return self._changes

    def total_changes(self) -> int:
        """Rows changed by every INSERT, UPDATE and DELETE on this connection."""
        return self._total_changes

    def cursor(self) -> PgCursor:
        """An empty cursor whose ``execute`` runs on this connection (apsw's ``conn.cursor()``)."""
        return PgCursor(self, [], None)

    # ------------------------------------------------------------------ transactions

    @property
    def in_transaction(self) -> bool:
        """Whether a transaction is open (also one a failed statement has aborted)."""
        return self.raw.info.transaction_status in (pq.TransactionStatus.INTRANS,
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
            return False
        if kind is None:
            self.execute("COMMIT" if outer else f"RELEASE {name}")
        else:
            self.execute("ROLLBACK" if outer else f"ROLLBACK TO {name}; RELEASE {name}")
        return False

    # ------------------------------------------------------------------ lifetime

    @property
    def closed(self) -> bool:
        return bool(self.raw.closed)

    def close(self) -> None:
        self.raw.close()

    def cancel(self) -> None:
        """Ask the server to stop the statement running now (from another thread)."""
        try:
            self.raw.cancel_safe()
        except psycopg.Error:
            pass
