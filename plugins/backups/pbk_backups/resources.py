"""``/api/backups``: list, create, upload, download, delete, restore, answered as PocketBase
0.40 answers them (superusers only; the download takes a superuser file token instead)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from pbk_sdk.auth import require_superuser
from pbk_sdk.body import read_body
from pbk_sdk.client_ip import superuser_ip_allowed
from pbk_sdk.errors import ApiError, BadRequestError, FieldError, ForbiddenError
from pbk_sdk.http import set_body_limit
from pbk_sdk.interfaces import FILE_STORAGES, TOKEN_SERVICE, App

from .archive import STORAGE_TEMP
from .service import ATTRS, Backups, describe, name_error

log = logging.getLogger(__name__)

BUSY = "Try again later - another backup/restore process has already been started."
LOAD_FAILED = "An error occurred while loading the submitted data."
INVALID = "An error occurred while validating the submitted data."
NO_ACCESS = "Insufficient permissions to access the resource."
#: Zip's local file header, empty archive and spanned archive signatures (what PocketBase's
#: mimetype detection calls ``application/zip``).
ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
#: PocketBase gives the restore response a second to leave before it restarts.
RESTORE_DELAY = 1.0
UNLIMITED = 1 << 62


def refuse_if_unavailable(backups: Backups) -> None:
    """400 with the reason when no backup can be made or restored here (PostgreSQL)."""
    if (refusal := backups.refusal()) is not None:
        raise BadRequestError(refusal)


class BackupList:
    """``GET /api/backups`` and ``POST /api/backups``."""

    def __init__(self, app: App, backups: Backups) -> None:
        self.app = app
        self.backups = backups

    async def on_get(self, req: Any, resp: Any) -> None:
        require_superuser(req)
        try:
            items = await self.backups.list()
        except Exception as exc:
            raise BadRequestError(f"Failed to retrieve backup items. Raw error: \n{exc}") from exc
        resp.media = [describe(item) for item in items]

    async def on_post(self, req: Any, resp: Any) -> None:
        require_superuser(req)
        refuse_if_unavailable(self.backups)
        if self.backups.lock.busy():
            raise BadRequestError(BUSY)
        name = (await read_body(req, bad_json=LOAD_FAILED)).data.get("name", "")
        if name is None:
            name = ""
        if not isinstance(name, str):
            raise BadRequestError(LOAD_FAILED)
        error = await name_error(self.backups, name)
        if error is not None:
            raise BadRequestError(INVALID, {"name": error})
        try:
            await self.backups.create(name)
        except Exception as exc:
            log.error("creating backup %r failed: %s", name, exc)
            raise BadRequestError("Failed to create backup.") from exc
        resp.status = 204


class BackupUpload:
    """``POST /api/backups/upload``: a zip, stored under its file name; no body limit."""

    def __init__(self, app: App, backups: Backups, item: BackupItem) -> None:
        self.app = app
        self.backups = backups
        self.item = item

    async def on_get(self, req: Any, resp: Any) -> None:
        """PocketBase routes ``GET /api/backups/upload`` to the download of key ``upload``."""
        await self.item.on_get(req, resp, "upload")

    async def on_delete(self, req: Any, resp: Any) -> None:
        """... and ``DELETE /api/backups/upload`` to the deletion of key ``upload``."""
        await self.item.on_delete(req, resp, "upload")

    async def on_post(self, req: Any, resp: Any) -> None:
        require_superuser(req)
        refuse_if_unavailable(self.backups)
        set_body_limit(req, UNLIMITED)
        body = await read_body(req, bad_json=LOAD_FAILED)
        try:
            upload = next(iter(body.files.get("file") or ()), None)
            if upload is None:
                raise BadRequestError(INVALID, {"file": FieldError("validation_required", "Cannot be blank.")})
            name = upload.filename.rsplit("/", 1)[-1]
            upload.file.seek(0)
            head = await asyncio.to_thread(upload.file.read, 4)
            if not head.startswith(ZIP_MAGIC):
                message = f'"{name}" mime type must be one of: application/zip.'
                raise BadRequestError(INVALID, {"file": FieldError("validation_invalid_mime_type", message)})
            if (name in ("", ".", "..") or name.endswith(ATTRS) or STORAGE_TEMP.fullmatch(name)
                    or await self.backups.exists(name, on_error=True)):
                message = "Backup file with the specified name already exists."
                raise BadRequestError(INVALID, {"file": FieldError("validation_backup_name_exists", message)})
            try:
                await self.backups.storage().save_file(name, upload.file, upload.size, content_type="application/zip")
            except Exception as exc:
                log.error("uploading backup %r failed: %s", name, exc)
                raise BadRequestError("Failed to upload backup.") from exc
        finally:
            body.close()
        resp.status = 204


class BackupItem:
    """``GET /api/backups/{key}?token=`` (download) and ``DELETE /api/backups/{key}``."""

    def __init__(self, app: App, backups: Backups) -> None:
        self.app = app
        self.backups = backups

    async def on_get(self, req: Any, resp: Any, key: str) -> None:
        token = req.get_param("token") or ""
        auth = await self.app.services.get(TOKEN_SERVICE, "jwt").verify(token, "file") if token else None
        if auth is None or not auth.is_superuser or not superuser_ip_allowed(self.app, req):
            raise ForbiddenError(NO_ACCESS)
        if key.endswith(ATTRS):  # PocketBase's storage refuses the extension of its sidecars
            raise BadRequestError("Something went wrong while processing your request.")
        storages = self.app.state[FILE_STORAGES]
        try:
            found = await storages.serve(req, resp, self.backups.storage(), key, key.rsplit("/", 1)[-1])
        except Exception as exc:  # noqa: BLE001 - the storage failed: nothing to serve
            log.warning("serving backup %r failed: %s", key, exc)
            found = False
        if not found:
            raise ApiError(404, "The requested resource wasn't found.")

    async def on_delete(self, req: Any, resp: Any, key: str) -> None:
        require_superuser(req)
        if key and self.backups.lock.active() == key:
            raise BadRequestError("The backup is currently being used and cannot be deleted.")
        try:
            await self.backups.delete(key)
        except Exception as exc:  # any failure is PocketBase's 400, with its text
            raise BadRequestError(f"Invalid or already deleted backup file. Raw error: \n{exc}") from exc
        resp.status = 204


class BackupRestore:
    """``POST /api/backups/{key}/restore``: 204 at once; a second later the backup is
    extracted and checked, then every worker restarts on it (a failure is logged and the
    data stays as it was)."""

    def __init__(self, app: App, backups: Backups) -> None:
        self.app = app
        self.backups = backups
        self._tasks: set[asyncio.Task[None]] = set()

    async def on_post(self, req: Any, resp: Any, key: str) -> None:
        require_superuser(req)
        refuse_if_unavailable(self.backups)
        if self.backups.lock.busy():
            raise BadRequestError(BUSY)
        if not await self.backups.exists(key, on_error=False):
            raise BadRequestError("Missing or invalid backup file.")
        task = asyncio.create_task(self._restore(key), name=f"pbk-restore-{key}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        resp.status = 204

    async def _restore(self, key: str) -> None:
        await asyncio.sleep(RESTORE_DELAY)
        try:
            await self.backups.stage_restore(key)
        except Exception as exc:  # noqa: BLE001 - logged, as PocketBase logs it
            log.error("Failed to restore backup %s: %s", key, exc)
            return
        try:
            self.app.cluster.restart()
        except RuntimeError as exc:
            log.error("Failed to restore backup %s: %s", key, exc)
            await self.backups.discard_staged()
