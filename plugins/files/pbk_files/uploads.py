"""Uploads: record event handlers that turn a request's file parts into stored files.

Every handler is registered for collections with a file field only (``has_file_fields``, asked
again whenever a collection's schema changes), so writes to other collections take the
records plugin's one-step path, as if this plugin were not installed.

* ``record_validate``: the uploads of ``f`` (replace; kept names may be sent next to them),
  ``f+`` (append) and ``+f`` (prepend) get their stored names, the field's final value is put
  on the record and checked (``validation_invalid_file``, ``validation_required``,
  ``validation_too_many_files``, ``validation_file_size_limit``, ``validation_invalid_mime_type``).
* ``record_before_write``: the uploads are streamed from the spooled request into storage, to
  their final keys, before the write's transaction begins, so a slow storage (S3) never holds
  the database's single writer (``/api/batch`` fires it for every item before the batch's
  transaction). Uploads the write does not keep (a single-file field keeps the last) are
  deleted after it; all of them when it fails or rolls back.
* ``record_create`` / ``record_update``: after the SQL (the default action) the new files not
  stored yet (a write that had field errors before its transaction, which a handler then
  cleared) are streamed into storage; files the record no
  longer names are deleted after commit. If anything fails, the new files go again: at once
  when the write itself fails, and through ``app.db.after_rollback`` when the transaction rolls
  back later (a create rule, a later batch item, any caller of the record store).
* ``record_delete``: the record's folder (files and thumbs) goes after commit.
* The uploads of a ``/api/batch`` item (``RecordEvent.context == "batch"``) are named twice, as
  PocketBase names them (it names a batch's files when it reads the batch, then again when it
  runs each item as a new multipart request): ``a_<10>_<10>.txt``.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import re
import weakref
from dataclasses import dataclass, field
from typing import Any

from pbk_sdk import events as ev
from pbk_sdk.body import UploadedFile
from pbk_sdk.errors import FieldError
from pbk_sdk.events import RecordEvent, Subscription
from pbk_sdk.interfaces import App, CollectionInfo, FileStorage
from pbk_sdk.priorities import STORAGE

from .backend import storage_for
from .names import SNIFF_BYTES, sniff, stored_name, type_matches

log = logging.getLogger("pbk.files")

DEFAULT_MAX_SIZE = 5 << 20
#: ``RecordEvent.context`` of an item of ``/api/batch``.
BATCH_CONTEXT = "batch"

#: Record ids whose folder is safe to write to before the write has validated the record.
SAFE_RECORD_ID = re.compile(r"[A-Za-z0-9_-]+")

@dataclass
class NewFile:
    name: str
    upload: UploadedFile
    content_type: str
    #: The record's folder (``<collectionId>/<recordId>``).
    prefix: str
    #: Already in storage (saved by ``record_before_write``).
    stored: bool = False
    #: Named by the record the write stored.
    kept: bool = False


#: The uploads ``record_before_write`` stored, by ``id()`` of their ``UploadedFile``, while the
#: write (or the batch) it wraps runs.
_STORED: contextvars.ContextVar[dict[int, NewFile] | None] = contextvars.ContextVar("pbk_files_stored", default=None)


@dataclass
class Plan:
    """What a record write does to its files, decided at ``record_validate``."""

    storage: FileStorage
    prefix: str
    new: list[NewFile] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)


def file_fields(collection: CollectionInfo) -> list[dict[str, Any]]:
    fields = getattr(collection, "fields", None)
    if fields is not None:
        out = []
        for f in fields:
            data = getattr(f, "data", f)
            if data.get("type") == "file":
                out.append(data)
        return out
    return [f for f in collection.to_json().get("fields", []) if f.get("type") == "file"]


def has_file_fields(collection: CollectionInfo) -> bool:
    """Whether writes to ``collection`` concern this plugin: a collection, not a view, with a
    file field (a view's files belong to the collection it reads)."""
    return collection.type != "view" and bool(file_fields(collection))


def names_of(value: Any) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value if isinstance(v, str) and v]
    return [str(value)] if isinstance(value, str) else []


def _head(upload: UploadedFile) -> bytes:
    upload.file.seek(0)
    head: bytes = upload.file.read(SNIFF_BYTES)
    upload.file.seek(0)
    return head


def _upload_type(upload: UploadedFile) -> str:
    return sniff(_head(upload), upload.filename)[0]


def _new_file(upload: UploadedFile, prefix: str, context: str) -> NewFile:
    """The upload as stored in ``prefix`` already (by ``record_before_write``), or newly named."""
    stored = (_STORED.get() or {}).get(id(upload))
    if stored is not None and stored.prefix == prefix:
        return stored
    head = _head(upload)
    client_name = stored_name(upload.filename, head) if context == BATCH_CONTEXT else upload.filename
    return NewFile(stored_name(client_name, head), upload, _upload_type(upload), prefix)


class Uploads:
    """The record event handlers of one app. They run last (``STORAGE``), once every other
    handler has set the record's final values."""

    def __init__(self, app: App) -> None:
        self.app = app
        #: The plan of each record event, from its ``record_validate`` to its write.
        self._plans: weakref.WeakKeyDictionary[RecordEvent, Plan] = weakref.WeakKeyDictionary()

    def subscribe(self) -> list[Subscription]:
        def on(name: str, handler: Any) -> Subscription:
            return self.app.events.on(name, handler, priority=STORAGE, collections=has_file_fields)

        return [
            on(ev.RECORD_VALIDATE, self.on_validate),
            on(ev.RECORD_CREATE, self.on_write),
            on(ev.RECORD_UPDATE, self.on_write),
            on(ev.RECORD_DELETE, self.on_delete),
            on(ev.RECORD_BEFORE_WRITE, self.on_before_write),
        ]

    async def on_before_write(self, e: RecordEvent) -> None:
        """Store the uploads before the transaction (see the module's docstring)."""
        fields = file_fields(e.collection)
        record_id = str(e.record.get("id", ""))
        keys = [key for fd in fields for key in (fd["name"], fd["name"] + "+", "+" + fd["name"])]
        uploads = [upload for key in keys for upload in e.files.get(key, ())]
        if not uploads or e.errors or not SAFE_RECORD_ID.fullmatch(record_id):
            await e.next()
            return
        storage = storage_for(self.app)
        prefix = f"{e.collection.id}/{record_id}"
        stored: dict[int, NewFile] = {}
        try:
            for upload in uploads:
                new = _new_file(upload, prefix, e.context)
                if new.stored:
                    continue  # stored by an enclosing handler, which cleans it up
                stored[id(upload)] = new  # before the save: a save cut short is deleted too
                await save_upload(storage, f"{prefix}/{new.name}", upload, new.content_type)
                new.stored = True
            token = _STORED.set({**(_STORED.get() or {}), **stored})
            try:
                await e.next()
            finally:
                _STORED.reset(token)
        except BaseException:
            await asyncio.shield(_delete_all(storage, [f"{prefix}/{new.name}" for new in stored.values()]))
            raise
        await _delete_all(storage, [f"{prefix}/{new.name}" for new in stored.values() if not new.kept])

    # ----------------------------------------------------------------- validation

    async def on_validate(self, e: RecordEvent) -> None:
        fields = file_fields(e.collection)
        if fields:
            self._plan(e, fields)
        await e.next()

    def _plan(self, e: RecordEvent, fields: list[dict[str, Any]]) -> None:
        record_id = str(e.record.get("id", ""))
        plan_new: list[NewFile] = []
        plan_removed: list[str] = []
        for fd in fields:
            name = fd["name"]
            multiple = int(fd.get("maxSelect") or 0) > 1
            replace = list(e.files.get(name, ()))
            append = list(e.files.get(name + "+", ()))
            prepend = list(e.files.get("+" + name, ()))
            original = names_of((e.original or {}).get(name))
            current = names_of(e.record.get(name))
            if not (replace or append or prepend) and current == original:
                continue
            if replace and name not in e.submitted:
                current = []  # uploads replace the files, unless names to keep were sent with them
            invalid = [n for n in current if n not in original]
            prefix = f"{e.collection.id}/{record_id}"
            news = [_new_file(u, prefix, e.context) for u in prepend]
            middle = [_new_file(u, prefix, e.context) for u in replace + append]
            final = [n.name for n in news] + current + [n.name for n in middle]
            uploads = news + middle
            if not multiple and final:
                final = final[-1:]
                uploads = [u for u in uploads if u.name in final]
            e.record[name] = final if multiple else (final[0] if final else "")
            e.errors.pop(name, None)
            error = self._check(fd, final, invalid, uploads)
            if error is not None:
                e.errors[name] = error
                continue
            plan_new.extend(uploads)
            plan_removed.extend(n for n in original if n not in final)
        if plan_new or plan_removed:
            self._plans[e] = Plan(storage_for(self.app), f"{e.collection.id}/{record_id}", plan_new, plan_removed)

    def _check(
        self, fd: dict[str, Any], final: list[str], invalid: list[str], uploads: list[NewFile]
    ) -> FieldError | None:
        if invalid:
            return FieldError(
                "validation_invalid_file",
                f"Invalid new files: [{' '.join(invalid)}].",
                {"invalidFiles": invalid},
            )
        if not final:
            return FieldError("validation_required", "Cannot be blank.") if fd.get("required") else None
        max_select = max(int(fd.get("maxSelect") or 0), 1)
        if len(final) > max_select:
            return FieldError(
                "validation_too_many_files", f"The maximum allowed files is {max_select}", {"maxSelect": max_select}
            )
        max_size = int(fd.get("maxSize") or 0) or DEFAULT_MAX_SIZE
        mime_types = [str(m) for m in fd.get("mimeTypes") or [] if m]
        for new in uploads:
            if new.upload.size > max_size:
                return FieldError(
                    "validation_file_size_limit",
                    f"Failed to upload {new.upload.filename} - the maximum allowed file size is {max_size} bytes.",
                    {"file": new.upload.filename, "maxSize": max_size},
                )
            if mime_types and not type_matches(new.content_type, mime_types):
                return FieldError(
                    "validation_invalid_mime_type",
                    f'"{new.name}" mime type must be one of: {", ".join(mime_types)}.',
                )
        return None

    # ----------------------------------------------------------------- writes

    async def on_write(self, e: RecordEvent) -> None:
        plan = self._plans.pop(e, None)
        if plan is None:
            await e.next()
            return
        written: list[str] = []
        try:
            await e.next()
            for new in plan.new:
                key = f"{plan.prefix}/{new.name}"
                written.append(key)
                new.kept = True
                if not new.stored:
                    await save_upload(plan.storage, key, new.upload, new.content_type)
        except BaseException:
            await asyncio.shield(_delete_all(plan.storage, written))
            raise

        async def rolled_back() -> None:
            await _delete_all(plan.storage, written)

        async def committed() -> None:
            for name in plan.removed:
                await _quiet_delete(plan.storage, f"{plan.prefix}/{name}")
                await _quiet_delete(plan.storage, f"{plan.prefix}/thumbs_{name}", prefix=True)

        if written:
            self.app.db.after_rollback(rolled_back)
        self.app.db.after_commit(committed)

    async def on_delete(self, e: RecordEvent) -> None:
        await e.next()
        fields = file_fields(e.collection)
        if not fields:
            return
        storage = storage_for(self.app)
        prefix = f"{e.collection.id}/{e.record['id']}"
        # The record's own files by name, not its whole folder: a record created again with the
        # same id in the same transaction (a batch) keeps the files it was just given.
        names = [name for f in fields for name in names_of(e.record.get(f["name"]))]

        async def committed() -> None:
            for name in names:
                await _quiet_delete(storage, f"{prefix}/{name}")
                await _quiet_delete(storage, f"{prefix}/thumbs_{name}", prefix=True)

        self.app.db.after_commit(committed)


async def save_upload(storage: FileStorage, key: str, upload: UploadedFile, content_type: str) -> None:
    """Stream an upload (a spooled file) into storage, never reading it whole into memory."""
    await storage.save_file(
        key, upload.file, upload.size, content_type=content_type,
        metadata={"original-filename": upload.filename},
    )


async def _delete_all(storage: FileStorage, keys: list[str]) -> None:
    for key in keys:
        await _quiet_delete(storage, key)


async def _quiet_delete(storage: FileStorage, key: str, *, prefix: bool = False) -> None:
    try:
        if prefix:
            await storage.delete_prefix(key)
        else:
            await storage.delete(key)
    except Exception:  # a failed cleanup must not fail the request that caused it
        log.exception("could not delete %s", key)
