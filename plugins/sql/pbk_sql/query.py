"""Run a console query on a connection, as PocketBase's ``POST /api/sql`` does.

A query that starts like a write runs whole in a write transaction and reports the rows the
last change touched. Any other runs on a reader and returns its last statement's columns and
first ``MAX_ROWS`` rows; should one of its statements write after all (``WITH … INSERT``,
``PRAGMA user_version = 1``), it is run again on the writer, so readers never write.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import apsw

from .values import as_text

MAX_ROWS = 1000
WRITE_PREFIXES = ("INSERT", "CREATE", "UPDATE", "DELETE", "DROP", "DETACH", "ALTER", "REPLACE")
#: Statements that would change the pooled connection itself rather than the data: pbk's
#: database layer owns transactions, and an attached file would stay on one connection only.
#: Temporary tables, views, indexes and triggers live in the connection too, and would outlast
#: the query on one pooled connection (a temp trigger on ``posts`` would fire on later writes).
REFUSED_ACTIONS = frozenset({
    apsw.SQLITE_TRANSACTION, apsw.SQLITE_SAVEPOINT, apsw.SQLITE_ATTACH, apsw.SQLITE_DETACH,
    apsw.SQLITE_CREATE_TEMP_TABLE, apsw.SQLITE_CREATE_TEMP_VIEW, apsw.SQLITE_CREATE_TEMP_INDEX,
    apsw.SQLITE_CREATE_TEMP_TRIGGER,
})
#: Pragmas that may be given an argument: those that only read (the argument names what to
#: read) and those that set a value kept in the database file. Setting any other pragma
#: (``query_only``, ``synchronous``, ``case_sensitive_like``) changes the connection, and the
#: change would outlast the query on that one pooled connection.
PRAGMAS_WITH_ARGUMENT = frozenset({
    "table_info", "table_xinfo", "table_list", "index_info", "index_xinfo", "index_list",
    "foreign_key_list", "foreign_key_check", "integrity_check", "quick_check",
    "user_version", "application_id",
})
_HANDLER_ID = "pbk_sql.deadline"


@dataclass
class Result:
    affected_rows: int = 0
    columns: list[dict[str, Any]] = field(default_factory=list)
    rows: list[list[str | None]] = field(default_factory=list)

    def to_json(self, exec_time_ms: int) -> dict[str, Any]:
        return {"execTime": exec_time_ms, "affectedRows": self.affected_rows,
                "columns": self.columns, "rows": self.rows}


class WritesData(Exception):
    """A statement of a query run as a read would write: run it on the writer instead."""


def looks_like_write(query: str) -> bool:
    """PocketBase's loose check by the query's first word."""
    upper = query.upper()
    return not upper.startswith("SELECT") and upper.startswith(WRITE_PREFIXES)


def execute(conn: apsw.Connection, query: str, deadline: float) -> Result:
    """Run every statement of ``query``; ``affectedRows`` is SQLite's ``changes()`` after it,
    as PocketBase reports: the rows the last insert, update or delete changed, which for a
    query without one is the count of an earlier query on the writer's connection."""
    with _guarded(conn, deadline):
        for _ in conn.execute(query):
            pass
    return Result(affected_rows=conn.changes())


def select(conn: apsw.Connection, query: str, deadline: float, read_only: bool) -> Result:
    """The last statement's columns and first ``MAX_ROWS`` rows (earlier ones run fully).
    ``read_only``: raise ``WritesData`` before any statement that would write."""
    statements = _Statements(query, read_only)
    with _guarded(conn, deadline):
        cursor = conn.cursor()
        cursor.exec_trace = statements.starting
        seen = 0
        for row in cursor.execute(query):
            if seen != statements.count:
                seen, statements.result.rows = statements.count, []
            if len(statements.result.rows) < MAX_ROWS:
                statements.result.rows.append([as_text(v, t) for v, t in zip(row, statements.types)])
            elif statements.last:
                break
        if seen != statements.count:
            statements.result.rows = []
    return statements.result


class _Statements:
    """Follows the statements of one query as SQLite starts each of them."""

    def __init__(self, query: str, read_only: bool) -> None:
        self.query = query
        self.read_only = read_only
        self.count = 0
        self.offset = 0
        self.last = False
        self.types: list[str] = []
        self.result = Result()

    def starting(self, cursor: apsw.Cursor, sql: str, bindings: Any) -> bool:
        if self.read_only and not cursor.is_readonly:
            raise WritesData()
        self.count += 1
        found = self.query.find(sql, self.offset)
        if found >= 0:
            self.offset = found + len(sql)
            self.last = not self.query[self.offset:].strip(" \t\r\n;")
        description = cursor.get_description()
        self.types = [(declared or "").upper() for _, declared in description]
        self.result.columns = [{"name": name, "type": declared, "nullable": True}
                               for name, declared in zip((d[0] for d in description), self.types)]
        return True


class _guarded:
    """Interrupt at ``deadline`` and refuse statements that change the connection itself,
    for the time of one query on a connection pbk's database layer lends."""

    def __init__(self, conn: apsw.Connection, deadline: float) -> None:
        self.conn = conn
        self.deadline = deadline
        self.authorizer: Any = None

    def __enter__(self) -> None:
        self.authorizer = self.conn.authorizer
        self.conn.authorizer = _refuse_connection_changes
        self.conn.set_progress_handler(self._past_deadline, 1000, id=_HANDLER_ID)

    def __exit__(self, *exc: object) -> None:
        self.conn.set_progress_handler(None, id=_HANDLER_ID)
        self.conn.authorizer = self.authorizer

    def _past_deadline(self) -> bool:
        return time.monotonic() > self.deadline


def _refuse_connection_changes(
    action: int, name: str | None, value: str | None, database: str | None, *_: Any
) -> int:
    """For ``SQLITE_PRAGMA`` SQLite passes the pragma's name and its argument (``None`` when
    the pragma is only read): reading any pragma is allowed, setting only a few."""
    if action in REFUSED_ACTIONS:
        return apsw.SQLITE_DENY
    if action == apsw.SQLITE_INSERT and database == "temp":  # a temp object named ``temp.x``,
        return apsw.SQLITE_DENY  # which SQLite reports as a plain creation (or its trigger's table's)
    if action == apsw.SQLITE_PRAGMA and value is not None \
            and (name or "").lower() not in PRAGMAS_WITH_ARGUMENT:
        return apsw.SQLITE_DENY
    return apsw.SQLITE_OK
