"""SQLite errors worded as PocketBase's Go driver words them: ``<code text>: <message> (<code>)``."""

from __future__ import annotations

import apsw

#: sqlite3_errstr() of the primary result codes a console query can meet.
CODE_TEXTS = {
    1: "SQL logic error", 2: "internal logic error", 3: "access permission denied",
    4: "query aborted", 5: "database is locked", 6: "database table is locked",
    7: "out of memory", 8: "attempt to write a readonly database", 9: "interrupted",
    10: "disk I/O error", 11: "database disk image is malformed", 12: "unknown operation",
    13: "database or disk is full", 14: "unable to open database file", 15: "locking protocol",
    17: "database schema has changed", 18: "string or blob too big", 19: "constraint failed",
    20: "datatype mismatch", 21: "bad parameter or other API misuse",
    23: "authorization denied", 25: "column index out of range", 26: "file is not a database",
}
INTERRUPTED = "interrupted (9)"


def driver_message(error: apsw.Error) -> str:
    """``error`` as the Go driver reports it."""
    code = getattr(error, "extendedresult", None) or getattr(error, "result", None) or 1
    text = str(error).removeprefix(f"{type(error).__name__}: ")
    if isinstance(error, apsw.InterruptError):
        return INTERRUPTED
    return f"{CODE_TEXTS.get(code & 0xFF, 'unknown error')}: {text} ({code})"
