"""The console on PostgreSQL: PostgreSQL's SQL, run with the same guards as on SQLite.

The query is split into its statements here (quotes, ``$tag$`` bodies and comments kept
whole) and each runs on its own, so the last one's rows are the answer and a statement that
ends or begins a transaction (``COMMIT``, ``BEGIN``, ``SAVEPOINT``, ``PREPARE TRANSACTION``,
``COPY``) is refused before any runs: pbk's database layer owns its connections' transactions.
A read runs in a ``READ ONLY`` transaction; should PostgreSQL refuse one of its statements as
a write, the whole query runs again in a writing one, as on SQLite. Each query runs on a
connection of its own, closed afterwards: whatever it leaves in its session (``SET``,
``set_config``, temporary tables, ``LISTEN``, prepared statements) goes with it, and none of
pbk's pooled connections ever sees it.
Errors read as PostgreSQL words them (``ERROR: … (SQLSTATE 42P01)``, as Go's pgx prints them).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterator
from typing import Any

from .query import MAX_ROWS, Result, WritesData
from .values import as_text

#: First words of the statements the console refuses.
REFUSED = frozenset({"BEGIN", "START", "COMMIT", "END", "ROLLBACK", "ABORT", "SAVEPOINT", "RELEASE",
                     "PREPARE", "COPY"})
READ_ONLY_TRANSACTION = "25006"
#: The statements whose row count is ``affectedRows``.
CHANGING = (b"INSERT", b"UPDATE", b"DELETE", b"MERGE")
_TOKEN = re.compile(r"""--[^\n]*|/\*|'|"|\$[A-Za-z_]\w*\$|\$\$|;""")
_WORD = re.compile(r"[A-Za-z]+")


class Refused(Exception):
    """A statement the console does not run; the message says which and why."""


class Failed(Exception):
    """PostgreSQL refused a statement; the message is its error as pgx prints it."""


def statements(query: str) -> list[str]:
    """The statements of ``query``, without the ones that hold only blanks and comments."""
    found, start = [], 0
    for end in _boundaries(query):
        found.append(query[start:end])
        start = end + 1
    found.append(query[start:])
    return [s.strip() for s in found if _first_word(s) or _code(s)]


def _boundaries(query: str) -> Iterator[int]:
    pos = 0
    while (match := _TOKEN.search(query, pos)) is not None:
        token, pos = match.group(), match.end()
        if token == ";":
            yield match.start()
        elif token == "/*":
            pos = _comment_end(query, pos)
        elif token in ("'", '"'):
            backslashes = token == "'" and query[max(0, match.start() - 1):match.start()] in ("E", "e")
            pos = _quote_end(query, pos, token, backslashes)
        elif token.startswith("$"):
            close = query.find(token, pos)
            pos = len(query) if close < 0 else close + len(token)


def _comment_end(query: str, pos: int) -> int:
    depth = 1
    while depth and pos < len(query):
        if query.startswith("/*", pos):
            depth, pos = depth + 1, pos + 2
        elif query.startswith("*/", pos):
            depth, pos = depth - 1, pos + 2
        else:
            pos += 1
    return pos


def _quote_end(query: str, pos: int, quote: str, backslashes: bool) -> int:
    while pos < len(query):
        char = query[pos]
        if backslashes and char == "\\":
            pos += 2
        elif char == quote:
            if not query.startswith(quote, pos + 1):
                return pos + 1
            pos += 2
        else:
            pos += 1
    return pos


def _code(statement: str) -> str:
    """``statement`` without comments (to tell a statement of comments only)."""
    return re.sub(r"--[^\n]*|/\*.*?\*/", "", statement, flags=re.DOTALL).strip()


def _first_word(statement: str) -> str:
    match = _WORD.match(_code(statement).lstrip("( \t\r\n"))
    return match.group().upper() if match else ""


def check(parts: list[str]) -> None:
    for statement in parts:
        word = _first_word(statement)
        if word in REFUSED:
            raise Refused(f"{word} is not allowed in the SQL console: pbk's database layer owns the "
                          "transactions of its connections (each query runs in one transaction).")


def run_query(connect: Callable[[str], Any], url: str, parts: list[str], timeout: float, read_timeout: float,
              write: bool) -> Result:
    """Run ``parts`` on a connection of their own to ``url`` (``connect(url)``, the database
    layer's ``PgConnection.connect``), closed afterwards: a ``write`` whole in one transaction
    (the rows its last change touched), anything else in a ``READ ONLY`` one and, should
    PostgreSQL refuse a statement of it as a write, again in a writing one (the last
    statement's columns and first ``MAX_ROWS`` rows)."""
    conn = connect(url)
    try:
        if write:
            return _transaction(conn.raw, parts, timeout, read_only=False, rows=False)
        try:
            return _transaction(conn.raw, parts, read_timeout, read_only=True, rows=True)
        except WritesData:
            return _transaction(conn.raw, parts, timeout, read_only=False, rows=True)
    finally:
        conn.close()


def _transaction(raw: Any, parts: list[str], timeout: float, *, read_only: bool, rows: bool) -> Result:
    """On ``raw``, the psycopg connection (whose ``Error`` is psycopg's base error class)."""
    try:
        raw.execute("BEGIN READ ONLY" if read_only else "BEGIN")
        raw.execute(f"SET LOCAL statement_timeout = {max(1, int(timeout * 1000))}")
        result = Result()
        with raw.cursor() as cursor:
            for index, statement in enumerate(parts):
                if rows and index == len(parts) - 1:
                    result = _rows(cursor, statement, read_only)
                else:
                    cursor.execute(statement)
                    if _changes(cursor):
                        result.affected_rows = cursor.rowcount
        raw.execute("ROLLBACK" if read_only else "COMMIT")
        if rows:
            result.affected_rows = 0
        return result
    except raw.Error as error:
        _roll_back(raw)
        if read_only and getattr(error, "sqlstate", None) == READ_ONLY_TRANSACTION:
            raise WritesData() from None
        raise Failed(_pgx_message(error)) from None
    except BaseException:
        _roll_back(raw)
        raise


def _roll_back(raw: Any) -> None:
    try:
        raw.execute("ROLLBACK")
    except raw.Error:
        pass  # the connection is gone: nothing was committed


def _changes(cursor: Any) -> bool:
    status = cursor.pgresult.command_status if cursor.pgresult is not None else None
    return cursor.rowcount >= 0 and bool(status) and status.split(b" ", 1)[0] in CHANGING


def _rows(cursor: Any, statement: str, read_only: bool) -> Result:
    """A read streams its rows and cancels the rest after ``MAX_ROWS`` (the transaction is
    rolled back anyway); on the writer the statement runs whole, so its writes are kept."""
    if read_only:
        stream = cursor.stream(statement)
        found = list(itertools.islice(stream, MAX_ROWS))
        stream.close()
    else:
        cursor.execute(statement)
        found = cursor.fetchmany(MAX_ROWS) if cursor.description is not None else []
    result = Result()
    if cursor.description is None:
        return result
    types = [column.type_display.upper() for column in cursor.description]
    result.columns = [{"name": column.name, "type": kind, "nullable": True}
                      for column, kind in zip(cursor.description, types, strict=True)]
    result.rows = [[as_text(v, t) for v, t in zip(row, types, strict=True)] for row in found]
    return result


def _pgx_message(error: Any) -> str:
    diag = getattr(error, "diag", None)
    primary = getattr(diag, "message_primary", None) or str(error).strip()
    severity = getattr(diag, "severity", None) or "ERROR"
    state = getattr(error, "sqlstate", None)
    return f"{severity}: {primary} (SQLSTATE {state})" if state else primary
