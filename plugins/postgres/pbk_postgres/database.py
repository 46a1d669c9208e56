"""``PostgresDriver``: the connections of a PostgreSQL database, for ``--db postgresql://...``.

The kernel runs them as it runs SQLite's (``pbk_sdk.interfaces.DatabaseDriver``): the same
writer thread and reader threads, the same transaction bookkeeping (``transaction()``,
savepoints for nested writes, ``after_commit``/``after_rollback``, cancellation), so both engines
behave alike, and nothing runs on the event loop thread (a statement there would wait on the
network). What this module decides:

- Connections are ``PgConnection``s, made lazily on the thread that uses them (so nothing opened
  before ``--workers`` forks is used after it) and made again when the server dropped them.
- A write transaction's ``BEGIN IMMEDIATE`` also takes an advisory lock (one per role), so
  writers take turns across processes and nodes as SQLite's do across processes: the
  read-then-write code plugins wrote for SQLite stays correct.
- ``--queryTimeout`` is the reader connections' ``statement_timeout``; the writer waits at most
  the kernel's busy timeout for a lock (``lock_timeout``), as SQLite's busy handler.
- ``vacuum`` is ``VACUUM (ANALYZE)`` of the whole database.
- A database the URL names that does not exist yet is created, as a missing data dir is.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

import apsw
import psycopg
from pbk_sdk.errors import PluginError
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from .connection import PgConnection

if TYPE_CHECKING:
    from .cluster import PostgresCluster

log = logging.getLogger(__name__)

#: The advisory lock each role's writer takes: app.db's and app.aux_db's writers do not wait
#: for each other, as data.db's and auxiliary.db's do not on SQLite.
WRITE_LOCKS = {"main": 0x70626B01, "aux": 0x70626B02}


class PostgresDriver:
    """One role (``main``: ``app.db``, ``aux``: ``app.aux_db``) of a PostgreSQL database."""

    engine = "postgresql"

    def __init__(self, url: str, role: str = "main") -> None:
        if role not in WRITE_LOCKS:
            raise PluginError(f"unknown database role {role!r}: expected 'main' or 'aux'")
        self.url = url
        self.role = role

    def connect(self, *, writer: bool, busy_timeout_ms: int, query_timeout: float, trace_sql: bool) -> PgConnection:
        settings = {"application_name": f"pbk-{self.role}-{'writer' if writer else 'reader'}"}
        if writer:
            settings["lock_timeout"] = f"{busy_timeout_ms}ms"
        elif query_timeout:
            settings["statement_timeout"] = f"{int(query_timeout * 1000)}ms"
        # After the URL's own ``options`` parameter, which the keyword would otherwise replace.
        given = conninfo_to_dict(self.url).get("options") or ""
        options = " ".join([str(given), *(f"-c {name}={value}" for name, value in settings.items())]).strip()
        return PgConnection.lazy(self.url, options={"options": options}, trace=trace_sql,
                                 write_lock=WRITE_LOCKS[self.role] if writer else None,
                                 begin_with_first_statement=writer)

    def ensure_exists(self) -> None:
        """A database that cannot be reached is one clear error at start, not at the first
        request; one that does not exist yet is made."""
        try:
            _check(self.url)
        except apsw.Error as exc:
            if not create_if_missing(self.url):
                message = str(exc).split(": ", 1)[-1]
                raise PluginError(f"cannot open the PostgreSQL database {redacted(self.url)}: {message}") from exc
            _check(self.url)

    def vacuum(self, conn: PgConnection) -> None:
        conn.execute("VACUUM (ANALYZE)")

    def cluster_backend(self) -> PostgresCluster | None:
        """Every node on this database is one cluster: a new member (``app.db``'s driver only)."""
        from .cluster import PostgresCluster

        return PostgresCluster(self.url) if self.role == "main" else None


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
    log.debug("created the PostgreSQL database %s", name)  # as quiet as a new data dir
    return True


def _check(url: str) -> None:
    conn = PgConnection.lazy(url)
    try:
        conn.execute("SELECT 1")
    finally:
        conn.close()


def redacted(url: str) -> str:
    """``url`` without its password, for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit(parts._replace(netloc=f"{parts.username}:***@{netloc}"))


def open_database(url: str, role: str, config: Any) -> PostgresDriver:
    """The ``pbk.databases`` entry point: the driver of ``app.db`` (``role="main"``) or
    ``app.aux_db`` (``"aux"``) on the PostgreSQL database of ``url``; both roles share it."""
    return PostgresDriver(url, role)
