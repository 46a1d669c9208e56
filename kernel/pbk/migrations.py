"""System migrations, recorded in ``_migrations`` exactly as PocketBase records its own.

PocketBase keeps one ``_migrations(file, applied)`` table in ``data.db`` (``applied`` in unix
microseconds), also for the migrations of ``auxiliary.db``. pbk uses the same table, so a
``pb_data`` written by either program shows the other what already ran.
"""

from __future__ import annotations

import inspect
import logging
import time
from collections.abc import Sequence

import apsw
from pbk_sdk.errors import PluginError
from pbk_sdk.interfaces import Migration

from .db import Database

log = logging.getLogger(__name__)

CREATE_MIGRATIONS_TABLE = {
    "sqlite": "CREATE TABLE IF NOT EXISTS `_migrations` "
              "(file VARCHAR(255) PRIMARY KEY NOT NULL, applied INTEGER NOT NULL)",
    "postgresql": 'CREATE TABLE IF NOT EXISTS "_migrations" '
                  '("file" VARCHAR(255) COLLATE "C" PRIMARY KEY NOT NULL, "applied" BIGINT NOT NULL)',
}


def _applied(conn: apsw.Connection, engine: str) -> set[str]:
    conn.execute(CREATE_MIGRATIONS_TABLE[engine])
    return {row[0] for row in conn.execute("SELECT file FROM _migrations")}


def _record(conn: apsw.Connection, file: str) -> None:
    conn.execute(
        "INSERT INTO _migrations (file, applied) VALUES (?, ?)",
        (file, time.time_ns() // 1000),
    )


async def apply_migrations(
    migrations: Sequence[tuple[str, Migration]], data_db: Database, aux_db: Database
) -> list[str]:
    """Apply the ``(plugin, migration)`` pairs not yet recorded, in order; return their files.

    Each ``data`` migration runs in the same transaction as its ``_migrations`` row. An
    ``auxiliary`` migration commits in ``auxiliary.db`` first and is recorded right after, as
    PocketBase does, so a crash in between re-runs it (write them idempotently).
    """
    seen: dict[str, str] = {}
    for plugin, migration in migrations:
        if migration.file in seen:
            raise PluginError(
                f"migration {migration.file!r} is declared by both plugin "
                f"{seen[migration.file]!r} and plugin {plugin!r}"
            )
        seen[migration.file] = plugin
        if migration.database not in ("data", "auxiliary"):
            raise PluginError(
                f"plugin {plugin!r}: migration {migration.file!r} names the database "
                f"{migration.database!r}; use 'data' or 'auxiliary'"
            )
        if any(inspect.iscoroutinefunction(step) for step in (migration.up, migration.down)):
            # It would return an un-awaited coroutine and be recorded as applied unrun.
            raise PluginError(
                f"plugin {plugin!r}: migration {migration.file!r} must be a plain function "
                f"of the connection, not async"
            )

    applied = await data_db.write(_applied, data_db.engine)
    done: list[str] = []
    for plugin, migration in migrations:
        if migration.file in applied:
            continue
        try:
            if migration.database == "auxiliary":
                await aux_db.write(migration.up)
                await data_db.write(_record, migration.file)
            else:

                def run(conn: apsw.Connection, migration: Migration = migration) -> None:
                    migration.up(conn)
                    _record(conn, migration.file)

                await data_db.write(run)
        except Exception as exc:
            # The operator sees one line: which plugin, which migration, what went wrong.
            raise PluginError(
                f"plugin {plugin!r} failed in migration {migration.file!r}: "
                f"{type(exc).__name__}: {exc}"
            ) from exc
        log.debug("applied migration %s (%s)", migration.file, plugin)
        done.append(migration.file)
    if done:
        log.info("applied %d migration(s): %s", len(done), ", ".join(done))
    return done
