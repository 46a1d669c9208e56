"""Automigrate (``--automigrate``, on by default): every collection created, changed or deleted
while pbk serves (the API, the dashboard, an import) is written to the migrations dir as a
file that recreates the change, and recorded as applied, as PocketBase's ``migratecmd`` does.
Files are named like PocketBase's: ``<unix seconds>_created_posts.py``, ``_updated_``,
``_deleted_``.
"""

from __future__ import annotations

import logging
from pathlib import Path

import apsw
from pbk_sdk import events as ev
from pbk_sdk.events import CollectionEvent
from pbk_sdk.interfaces import App

from . import templates
from .files import new_file_name
from .runner import record

log = logging.getLogger(__name__)


class Automigrate:
    """Listens to the collection events of one app and writes the files."""

    def __init__(self, app: App) -> None:
        self.app = app

    def listen(self) -> None:
        """Start writing files; called once start-up has applied the migrations (their own
        collection changes are already in files)."""
        self.app.events.on(ev.COLLECTION_AFTER_CREATE_SUCCESS, self.created)
        self.app.events.on(ev.COLLECTION_AFTER_UPDATE_SUCCESS, self.updated)
        self.app.events.on(ev.COLLECTION_AFTER_DELETE_SUCCESS, self.deleted)

    async def created(self, e: CollectionEvent) -> None:
        await self.write(f"created_{e.collection.name}", templates.created(e.collection.to_json()))
        await e.next()

    async def updated(self, e: CollectionEvent) -> None:
        text = templates.updated(e.original.to_json(), e.collection.to_json())
        if text is not None:
            await self.write(f"updated_{e.original.name}", text)
        await e.next()

    async def deleted(self, e: CollectionEvent) -> None:
        await self.write(f"deleted_{e.collection.name}", templates.deleted(e.collection.to_json()))
        await e.next()

    async def write(self, what: str, text: str) -> None:
        """Write the file and its ``_migrations`` row in one transaction: the write lock
        orders the files of changes made on different workers."""
        folder = self.app.config.migrations_dir
        if what.lower().endswith("test"):  # as PocketBase: never a test module's name
            what += "_"
        written: list[Path] = []

        def save(conn: apsw.Connection) -> str:
            folder.mkdir(parents=True, exist_ok=True)
            name = new_file_name(folder, what)
            record(conn, name)
            with (folder / name).open("x", encoding="utf-8") as out:
                written.append(folder / name)
                out.write(text)
            return name

        try:
            name = await self.app.db.write(save)
        except (OSError, apsw.Error):
            for path in written:  # rolled back: a file left would be applied at the next start
                path.unlink(missing_ok=True)
            # The change is committed; the operator must know its migration is missing.
            log.exception("automigrate could not write the migration for %s into %s", what, folder)
            return
        log.info("automigrate wrote %s", folder / name)
