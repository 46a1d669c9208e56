"""Backups of one app: where they are kept, making one, restoring one, the automatic ones.

Backups live in ``pb_data/backups`` or, when ``backups.s3.enabled``, in that S3 bucket, both
through the files plugin's storage (``app.state[FILE_STORAGES]``). Making and restoring hold
the data dir's backup lock; their slow parts (database copies, zipping, extracting) run on
threads and report progress to the log and to an optional callback (the CLI's).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import re
import secrets
import shutil
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pbk_sdk.errors import FieldError
from pbk_sdk.events import BACKUP_CREATE, BACKUP_RESTORE, BackupEvent
from pbk_sdk.interfaces import FILE_STORAGES, App, FileInfo, FileStorage
from pbk_sdk.state import StateKey

from .alerts import alert_superusers
from .archive import (
    TEMP_DIR,
    BackupError,
    Progress,
    Reporter,
    extract,
    snapshot_database,
    write_zip,
)
from .lock import BackupLock
from .swap import KEEP, STAGED

log = logging.getLogger(__name__)

BUSY = "try again later - another backup/restore operation has already been started"
AUTO_PREFIX = "@auto_pb_backup_"
AUTO_JOB = "__pbAutoBackup__"
#: PocketBase's ``meta.appName`` when no plugin declares the ``meta`` section (the mailer does).
DEFAULT_APP_NAME = "Acme"
_SNAKE_SPLIT = re.compile(r"[^A-Za-z0-9]+")
#: A backup name given to ``POST /api/backups`` or ``pbk backups create NAME``.
NAME = re.compile(r"[a-z0-9_-]+\.zip")
NAME_MAX = 150
#: The extension of the storage's sidecar files, which PocketBase's storage refuses as a key.
ATTRS = ".attrs"
#: Why a backup cannot be made or restored on PostgreSQL (the API's 400, the CLI's error).
ON_POSTGRESQL = ("Backups are not available when the data is in PostgreSQL: a backup zips pb_data, "
                 "which does not hold it. Back up the database with pg_dump (and pb_data's files "
                 "with any file backup) instead.")


class Unavailable:
    """``BACKUP_STATUS`` where no backup can ever run (PostgreSQL): health's ``canBackup`` is
    false."""

    def busy(self) -> bool:
        return True


def snakecase(text: str) -> str:
    """PocketBase's ``inflector.Snakecase``: words split at non-word characters and before an
    upper-case letter that follows a lower-case one, joined by ``_``, lower-cased."""
    words = []
    for word in filter(None, _SNAKE_SPLIT.split(text)):
        words.append(re.sub(r"(?<=[^A-Z])(?=[A-Z])", "_", word))
    return "_".join(words).lower()


def default_name(app: App, prefix: str = "pb_backup_") -> str:
    """``<prefix><app name in snake case, at most 50>_<UTC YYYYMMDDHHMMSS>.zip``."""
    app_name = snakecase(str(app.settings.get("meta.appName", DEFAULT_APP_NAME)))[:50]
    return f"{prefix}{app_name}_{datetime.now(UTC):%Y%m%d%H%M%S}.zip"


class Backups:
    """The backups of ``app``; ``app.state[BACKUPS]`` (see ``plugin``)."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.data_dir = Path(app.data_dir)
        self.lock = BackupLock(self.data_dir)

    def refusal(self) -> str | None:
        """Why no backup can be made or restored here, or None when they can."""
        return ON_POSTGRESQL if self.app.db.engine == "postgresql" else None

    def storage(self) -> FileStorage:
        return self.app.state[FILE_STORAGES].for_section("backups.s3", self.data_dir / "backups")

    async def list(self, prefix: str = "") -> list[FileInfo]:
        items = await self.storage().list("")
        return sorted((item for item in items if item.key.startswith(prefix)), key=lambda item: item.key)

    async def exists(self, key: str, *, on_error: bool) -> bool:
        """Whether backup ``key`` exists; ``on_error`` when the storage cannot tell (S3 down),
        as each of PocketBase's checks decides."""
        try:
            return await self.storage().stat(key) is not None
        except ValueError:  # a key the storage refuses (``..``): no such backup
            return False
        except Exception as exc:  # noqa: BLE001 - the storage's failure, logged; the caller decides
            log.warning("checking backup %r failed: %s", key, exc)
            return on_error

    def _temp_dir(self, kind: str) -> Path:
        folder = self.data_dir / TEMP_DIR / f"{kind}_{secrets.token_hex(4)}"
        folder.mkdir(parents=True)
        return folder

    async def create(self, name: str = "", progress: Progress | None = None) -> str:
        """Make a backup named ``name`` (a default one when empty) and store it, through the
        ``backup_create`` event; returns the name. ``BackupError`` when another backup or
        restore runs, or none can be made here."""
        if (refusal := self.refusal()) is not None:
            raise BackupError(refusal)
        if not self.lock.acquire(name):
            raise BackupError(BUSY)
        try:
            event = BackupEvent(app=self.app, name=name or default_name(self.app))
            await self.app.events.trigger(BACKUP_CREATE, event, functools.partial(self._make, report=Reporter(progress)))
            return event.name
        finally:
            self.lock.release()

    async def _make(self, event: BackupEvent, report: Reporter) -> None:
        """``backup_create``'s default action: snapshot, zip and store."""
        name, temp = event.name, None
        try:
            self.lock.note(name)
            report(f"backup: {name} started", final=True)
            temp = await asyncio.to_thread(self._temp_dir, "pb_backup")
            snapshots = {}
            for db, filename in ((self.app.db, "data.db"), (self.app.aux_db, "auxiliary.db")):
                snapshots[filename] = temp / filename
                await db.read(snapshot_database, temp / filename, filename, report)
            archive = temp / "backup.zip"
            await asyncio.to_thread(write_zip, self.data_dir, archive, snapshots, report, event.exclude)
            size = archive.stat().st_size
            data = await asyncio.to_thread(archive.open, "rb")
            with data:
                await self.storage().save_file(name, data, size, content_type="application/zip")
            report(f"backup: {name} done, {size} bytes", final=True)
        finally:
            if temp is not None:
                await asyncio.to_thread(shutil.rmtree, temp, True)

    async def stage_restore(self, key: str, progress: Progress | None = None) -> None:
        """Extract and check backup ``key`` into ``pb_data/.pbk_restore``, through the
        ``backup_restore`` event, holding the backup lock until this process ends (the restart
        swaps it in; see ``swap``). ``BackupError`` when another backup or restore runs, the
        backup is not a usable one, or none can be restored here."""
        if (refusal := self.refusal()) is not None:
            raise BackupError(refusal)
        if not self.lock.acquire(key):
            raise BackupError(BUSY)
        try:
            event = BackupEvent(app=self.app, name=key)
            await self.app.events.trigger(BACKUP_RESTORE, event, functools.partial(self._stage_restore, report=Reporter(progress)))
        except BaseException:
            self.lock.release()
            raise

    async def _stage_restore(self, event: BackupEvent, report: Reporter) -> None:
        """``backup_restore``'s default action: fetch, extract, check and stage."""
        key, temp = event.name, None
        try:
            self.lock.note(key)  # a handler may have chosen another backup
            report(f"restore: {key} started", final=True)
            temp = await asyncio.to_thread(self._temp_dir, "pb_restore")
            zip_path = await self._local_copy(key, temp)
            extracted = temp / "data"
            await asyncio.to_thread(extract, zip_path, extracted, report)
            await asyncio.to_thread(self._stage, extracted, event.exclude)
            report(f"restore: {key} extracted and checked, ready to swap in", final=True)
        finally:
            if temp is not None:
                await asyncio.to_thread(shutil.rmtree, temp, True)

    def _stage(self, extracted: Path, exclude: Iterable[str]) -> None:
        """Stage ``extracted``; the root entries in ``exclude`` stay as they are in ``pb_data``
        (as PocketBase's ``OnBackupRestore`` ``Exclude``): the backup's own are dropped."""
        keep = sorted({name for name in exclude if name and name not in (".", "..") and "/" not in name})
        for name in keep:
            path = extracted / name
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                path.unlink(missing_ok=True)
        (extracted / KEEP).write_text("\n".join(keep))
        staged = self.data_dir / STAGED
        shutil.rmtree(staged, ignore_errors=True)
        extracted.rename(staged)

    async def discard_staged(self) -> None:
        """Drop a staged restore that will not be swapped in, and let other backups run."""
        await asyncio.to_thread(shutil.rmtree, self.data_dir / STAGED, True)
        self.lock.release()

    async def _local_copy(self, key: str, temp: Path) -> Path:
        """The backup zip as a local file: the file itself on disk, a download from S3."""
        storage = self.storage()
        local = getattr(storage, "path", None)
        if local is not None and not self.app.settings.get("backups.s3.enabled"):
            return Path(local(key))
        target = temp / "backup.zip"
        out = await asyncio.to_thread(target.open, "wb")
        with out:
            async for chunk in storage.open(key):
                await asyncio.to_thread(out.write, chunk)
        return target

    async def delete(self, key: str) -> None:
        if key.endswith(ATTRS):
            raise BackupError(f'[key: {key}] file extension "{ATTRS}" is reserved')
        storage = self.storage()
        if await storage.stat(key) is None:
            raise BackupError(f"blob (key {key!r}) not found")
        await storage.delete(key)

    async def auto_backup(self) -> None:
        """The ``__pbAutoBackup__`` job: a backup named ``@auto_pb_backup_...``, then only the
        ``backups.cronMaxKeep`` newest automatic ones are kept."""
        name = default_name(self.app, AUTO_PREFIX)
        try:
            await self.create(name)
        except Exception as exc:  # noqa: BLE001 - logged and mailed as PocketBase does; pruning still runs
            log.error("[Backup cron] Failed to create backup %s: %s", name, exc)
            await alert_superusers(
                self.app, "Autobackup failure", f"The automatic backup {name} could not be made or stored:\n{exc}"
            )
        keep = int(self.app.settings.get("backups.cronMaxKeep") or 0)
        if keep <= 0:
            return
        autos = await self.list(AUTO_PREFIX)
        autos.sort(key=lambda item: item.modified, reverse=True)
        for item in autos[keep:]:
            try:
                await self.storage().delete(item.key)
            except Exception as exc:  # noqa: BLE001
                log.error("[Backup cron] Failed to remove old autogenerated backup %s: %s", item.key, exc)


async def name_error(backups: Backups, name: str) -> FieldError | None:
    """Why ``name`` cannot name a new backup (PocketBase's checks, in its order); None when it
    can, or is empty (a default name is chosen)."""
    if not name:
        return None
    if len(name) > NAME_MAX:
        return FieldError("validation_length_out_of_range", f"The length must be between 1 and {NAME_MAX}.",
                          {"max": NAME_MAX, "min": 1})
    if not NAME.fullmatch(name):
        return FieldError("validation_match_invalid", "Must be in a valid format.")
    if await backups.exists(name, on_error=True):
        return FieldError("validation_backup_name_exists", "The backup file name is invalid or already exists.")
    return None


#: This app's backups (built on first use).
BACKUPS: StateKey[Backups] = StateKey("backups.backups", Backups)


def describe(item: FileInfo) -> dict[str, Any]:
    """A list item as PocketBase answers it."""
    modified = item.modified.astimezone(UTC)
    return {
        "modified": modified.strftime("%Y-%m-%d %H:%M:%S.") + f"{modified.microsecond // 1000:03d}Z",
        "key": item.key,
        "size": item.size,
    }
