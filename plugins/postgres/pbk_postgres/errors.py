"""PostgreSQL's errors as apsw's exception classes.

Every plugin already catches apsw's classes (``apsw.ConstraintError`` for a duplicate,
``apsw.InterruptError`` for a timeout ...), so the adapter raises those on PostgreSQL too: no
catch site changes, no cost on SQLite's path. A constraint violation's message is SQLite's
(``UNIQUE constraint failed: posts.title``: catch sites read the column names from it); the
PostgreSQL message, SQLSTATE and constraint name ride along as attributes of the exception.
"""

from __future__ import annotations

import re

import apsw
import psycopg

#: SQLSTATE classes and codes, and the apsw class each becomes.
_BY_STATE: dict[str, type[apsw.Error]] = {
    "23505": apsw.ConstraintError,  # unique_violation
    "23502": apsw.ConstraintError,  # not_null_violation
    "23503": apsw.ConstraintError,  # foreign_key_violation
    "23514": apsw.ConstraintError,  # check_violation
    "23P01": apsw.ConstraintError,  # exclusion_violation
    "57014": apsw.InterruptError,  # query_canceled (statement_timeout, pg_cancel_backend)
    "40001": apsw.BusyError,  # serialization_failure
    "40P01": apsw.BusyError,  # deadlock_detected
    "55P03": apsw.BusyError,  # lock_not_available
    "25P02": apsw.SQLError,  # in_failed_sql_transaction
    "22021": apsw.MismatchError,  # character_not_in_repertoire (a NUL in text)
    "22P05": apsw.MismatchError,  # untranslatable_character
}
_BY_CLASS: dict[str, type[apsw.Error]] = {
    "08": apsw.IOError,  # connection exception
    "57": apsw.IOError,  # operator intervention (admin shutdown, pg_terminate_backend)
    "53": apsw.FullError,  # insufficient resources (disk full, out of memory)
    "42": apsw.SQLError,  # syntax error or access rule violation
    "22": apsw.MismatchError,  # data exception (bad input for a type)
    "23": apsw.ConstraintError,
}
#: ``Key (a, b)=(1, 2) already exists.``: the columns of a unique violation's detail.
_KEY_COLUMNS = re.compile(r"^Key \((.*?)\)=\(")
_IDENTIFIER = re.compile(r'^"?([A-Za-z_][A-Za-z_0-9]*)"?$')


def translate(error: psycopg.Error) -> apsw.Error:
    """The apsw exception that stands for ``error`` (its class and a SQLite-like message)."""
    state = error.sqlstate or ""
    cls = _BY_STATE.get(state) or _BY_CLASS.get(state[:2])
    if cls is None:
        cls = _client_side(error) if not state else apsw.SQLError
    diag = error.diag
    pg_message = (diag.message_primary or str(error)).strip()
    text = _sqlite_message(state, diag) if cls is apsw.ConstraintError else None
    translated = cls(f"{cls.__name__}: {text or pg_message}")
    translated.pg_message = pg_message  # type: ignore[attr-defined]
    translated.sqlstate = state  # type: ignore[attr-defined]
    translated.constraint_name = diag.constraint_name  # type: ignore[attr-defined]
    translated.connection_lost = cls is apsw.IOError  # type: ignore[attr-defined]
    return translated


def _client_side(error: psycopg.Error) -> type[apsw.Error]:
    """An error psycopg raised before the server saw the statement (no SQLSTATE): a lost
    connection, or a value PostgreSQL cannot hold (a NUL in text)."""
    if isinstance(error, psycopg.OperationalError):
        return apsw.IOError
    if isinstance(error, psycopg.DataError):
        return apsw.MismatchError
    return apsw.SQLError


def _sqlite_message(state: str, diag: psycopg.errors.Diagnostic) -> str | None:
    """SQLite's words for a constraint violation: ``UNIQUE constraint failed: t.a, t.b``,
    ``NOT NULL constraint failed: t.a``, ``FOREIGN KEY constraint failed``, ``CHECK constraint
    failed: name``; a unique index over expressions is ``UNIQUE constraint failed: index 'name'``."""
    table = diag.table_name or ""
    if state == "23505":
        match = _KEY_COLUMNS.match(diag.message_detail or "")
        columns = [_IDENTIFIER.match(c.strip()) for c in match.group(1).split(",")] if match else []
        if columns and all(columns):
            return "UNIQUE constraint failed: " + ", ".join(f"{table}.{c.group(1)}" for c in columns if c)
        return f"UNIQUE constraint failed: index '{diag.constraint_name or ''}'"
    if state == "23502":
        return f"NOT NULL constraint failed: {table}.{diag.column_name or ''}"
    if state == "23503":
        return "FOREIGN KEY constraint failed"
    if state == "23514":
        return f"CHECK constraint failed: {diag.constraint_name or ''}"
    return None
