"""Applying the project's migration files and reverting the last applied migrations (files
and plugins' alike), recorded in ``_migrations`` as PocketBase records them.

Each migration runs in its own transaction with its ``_migrations`` row, so one that fails
leaves nothing behind and is tried again at the next start. The row is checked again inside
that transaction: a second process on the same data dir never applies a file twice.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass

import apsw
from pbk_sdk.interfaces import COLLECTIONS, App, Migration

from .files import MigrationError, MigrationFile, Step, migration_files
from .scripting import MigrationApp

log = logging.getLogger(__name__)

#: Newest first; seconds (older PocketBase) and microseconds compare alike, as PocketBase orders.
LAST_APPLIED = (
    "SELECT file FROM _migrations WHERE applied IS NOT NULL "
    "ORDER BY substr(applied || '0000000000000000', 0, 17) DESC, file DESC"
)


def record(conn: apsw.Connection, file: str) -> None:
    conn.execute("INSERT INTO _migrations (file, applied) VALUES (?, ?)", (file, time.time_ns() // 1000))


def _forget(conn: apsw.Connection, file: str) -> None:
    conn.execute("DELETE FROM _migrations WHERE file = ?", (file,))


def _applied(conn: apsw.Connection) -> list[str]:
    return [row[0] for row in conn.execute("SELECT file FROM _migrations")]


def _recorded(conn: apsw.Connection, file: str) -> bool:
    return conn.execute("SELECT 1 FROM _migrations WHERE file = ?", (file,)).fetchone() is not None


@dataclass(frozen=True)
class PluginMigration:
    plugin: str
    migration: Migration


class Migrations:
    """The project's files in ``app.config.migrations_dir`` and the plugins' migrations."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.folder = app.config.migrations_dir

    def files(self) -> list[MigrationFile]:
        return migration_files(self.folder)

    def plugin_migrations(self) -> dict[str, PluginMigration]:
        return {
            m.file: PluginMigration(plugin, m)
            for plugin, items in self.app.call_hook("pbk_register_migrations", app=self.app)
            for m in items
        }

    async def up(self) -> list[str]:
        """Apply the files not yet applied, in name order; return their names."""
        if stray := sorted(p.name for p in self.folder.glob("*.js")):
            log.warning("%s: PocketBase's JavaScript migrations are not run by pbk: %s", self.folder, ", ".join(stray))
        applied = set(await self.app.db.read(_applied))
        done = []
        for file in self.files():
            if file.name not in applied and await self._apply(file):
                log.info("applied migration %s", file.name)
                done.append(file.name)
        return done

    async def _apply(self, file: MigrationFile) -> bool:
        up, _ = file.load()
        async with self.app.state[COLLECTIONS].changing():
            if await self.app.db.write(_recorded, file.name):
                return False  # another process applied it meanwhile
            await self._run(file, up, "apply")
            await self.app.db.write(record, file.name)
        return True

    async def last_applied(self, count: int) -> list[str]:
        """The ``count`` (all when negative) last applied migrations this app knows, newest first."""
        known = {f.name for f in self.files()} | set(self.plugin_migrations())
        rows = await self.app.db.read(lambda conn: [r[0] for r in conn.execute(LAST_APPLIED)])
        names = [name for name in rows if name in known]
        return names if count < 0 else names[:count]

    async def down(self, names: list[str]) -> list[str]:
        """Revert ``names`` in this order, each in its own transaction. A plugin migration
        without a down step refuses, before anything is reverted."""
        files = {f.name: f for f in self.files()}
        plugins = self.plugin_migrations()
        for name in names:
            if name not in files and plugins[name].migration.down is None:
                raise MigrationError(
                    f"cannot revert {name}: plugin {plugins[name].plugin!r} gives it no down step "
                    f"(system migrations cannot be reverted); nothing was reverted"
                )
        steps = {name: files[name].load()[1] for name in names if name in files}
        for name in names:
            if name in files:
                await self._revert_file(files[name], steps[name])
            else:
                await self._revert_plugin(plugins[name])
            log.info("reverted migration %s", name)
        return names

    async def _revert_file(self, file: MigrationFile, down: Step | None) -> None:
        async with self.app.state[COLLECTIONS].changing():
            if down is not None:  # a file without down() is only forgotten, as in PocketBase
                await self._run(file, down, "revert")
            await self.app.db.write(_forget, file.name)

    async def _revert_plugin(self, item: PluginMigration) -> None:
        migration = item.migration
        down = migration.down
        assert down is not None
        try:
            if migration.database == "auxiliary":
                await self.app.aux_db.write(down)
                await self.app.db.write(_forget, migration.file)
            else:

                def revert(conn: apsw.Connection) -> None:
                    down(conn)
                    _forget(conn, migration.file)

                await self.app.db.write(revert)
        except Exception as exc:
            raise MigrationError(
                f"plugin {item.plugin!r} failed to revert migration {migration.file}: {type(exc).__name__}: {exc}"
            ) from exc

    async def history_sync(self) -> list[str]:
        """Forget the applied ``*.py`` migrations whose files are gone from the folder; return
        them. Other rows (plugins' not loaded now, PocketBase's ``*.js``) are not ours to judge."""
        known = {f.name for f in self.files()} | set(self.plugin_migrations())

        def sync(conn: apsw.Connection) -> list[str]:
            gone = [name for name in _applied(conn) if name.endswith(".py") and name not in known]
            for name in gone:
                _forget(conn, name)
            return gone

        return await self.app.db.write(sync)

    async def _run(self, file: MigrationFile, step: Step, verb: str) -> None:
        loop = asyncio.get_running_loop()
        try:
            await asyncio.to_thread(step, MigrationApp(self.app, loop))
        except Exception as exc:
            raise MigrationError(f"failed to {verb} migration {file.path}: {file.explain(exc)}") from exc
