"""``GET /api/files/...``, ``POST /api/files/token`` and ``POST /api/settings/test/s3``."""

from __future__ import annotations

import asyncio
import email.utils
import logging
from datetime import UTC, datetime
from typing import Any

from pbk_sdk.auth import request_auth, require_superuser
from pbk_sdk.body import read_body
from pbk_sdk.client_ip import superuser_ip_allowed
from pbk_sdk.errors import ApiError, FieldError
from pbk_sdk.interfaces import (
    RECORD_STORE,
    TOKEN_SERVICE,
    App,
    CollectionInfo,
    FileInfo,
    FileStorage,
    RecordStore,
    TokenService,
)

from . import thumbs
from .backend import storage_for
from .names import INLINE_TYPES
from .storage import S3Error, S3Storage
from .uploads import file_fields, names_of

log = logging.getLogger("pbk.files")

CACHE_CONTROL = "max-age=2592000, stale-while-revalidate=86400"
CSP = "default-src 'none'; media-src 'self'; style-src 'unsafe-inline'; sandbox"
TRUE = ("1", "t", "T", "true", "TRUE", "True")


#: ``fileToken.duration`` when a collection leaves it 0.
DEFAULT_TOKEN_DURATION = 180


def record_store(app: App) -> RecordStore:
    return app.services.get(RECORD_STORE, "sqlite")


def token_service(app: App) -> TokenService:
    """PocketBase's record tokens, offered by the auth plugin."""
    return app.services.get(TOKEN_SERVICE, "jwt")


class FileDownload:
    """``GET /api/files/{collection}/{record_id}/{filename}`` (``?thumb=``, ``?download=``, ``?token=``)."""

    def __init__(self, app: App) -> None:
        self.app = app
        self._thumb_locks: dict[str, asyncio.Lock] = {}

    async def on_get(self, req: Any, resp: Any, collection: str, record_id: str, filename: str) -> None:
        store = record_store(self.app)
        coll = store.collection(collection)
        if coll is None or not record_id or not filename or "/" in filename or "\\" in filename:
            raise ApiError(404)
        if filename in (".", "..") or "\x00" in filename or "/" in record_id or record_id in (".", ".."):
            raise ApiError(404)
        record = await store.get(coll, record_id)
        if record is None:
            raise ApiError(404)
        field = next((f for f in file_fields(coll) if filename in names_of(record.get(f["name"]))), None)
        if field is None:
            raise ApiError(404)
        if field.get("protected") and not await self._may_see_protected(req, store, coll, record_id):
            raise ApiError(404)
        storage = storage_for(self.app)
        prefix = await self._folder(store, coll, record_id, field["name"], filename)
        if prefix is None:
            raise ApiError(404)
        key = f"{prefix}/{filename}"
        try:
            info = await storage.stat(key)
        except Exception as exc:  # the storage is unreachable or refuses: PocketBase answers 404
            log.warning("could not read %s from storage: %s", key, exc)
            raise ApiError(404) from exc
        if info is None:
            raise ApiError(404)
        served_name = filename
        size = req.get_param("thumb") or ""
        if size and self._thumb_allowed(field, filename, size, info.content_type or ""):
            thumb_key = f"{prefix}/thumbs_{filename}/{size}_{filename}"
            thumb_info = await self._thumb(storage, key, thumb_key, size)
            if thumb_info is not None:
                key, info, served_name = thumb_key, thumb_info, f"{size}_{filename}"
        await send_file(req, resp, storage, key, info, served_name)

    async def _folder(
        self, store: RecordStore, coll: CollectionInfo, record_id: str, field_name: str, filename: str
    ) -> str | None:
        """The storage folder of the file: the record's own, or for a view (whose records store
        nothing) the folder of the source record whose field holds the file, as PocketBase
        serves it; None when no source record holds it."""
        if coll.type != "view":
            return f"{coll.id}/{record_id}"
        find = _column_origin_postgres if self.app.db.engine == "postgresql" else _column_origin
        origin = await self.app.db.read(find, coll.name, field_name)
        source = store.collection(origin[0]) if origin is not None else None
        source_field = next((f for f in file_fields(source) if f["name"] == origin[1]), None) if source else None
        if origin is None or source is None or source_field is None:
            return None
        multiple = int(source_field.get("maxSelect") or 0) > 1
        condition = f"{origin[1]}:each ?= {{:filename}}" if multiple else f"{origin[1]} = {{:filename}}"
        holders = await store.list(source, filter=condition, params={"filename": filename}, limit=1)
        return f"{source.id}/{holders[0]['id']}" if holders else None

    async def _may_see_protected(self, req: Any, store: RecordStore, coll: CollectionInfo, record_id: str) -> bool:
        rule = coll.rule("viewRule")
        if rule == "":
            return True
        token = req.get_param("token") or ""
        auth = await token_service(self.app).verify(token, "file") if token else None
        if auth is not None and auth.is_superuser and not superuser_ip_allowed(self.app, req):
            auth = None  # outside superuserIPs: PocketBase downloads it as a guest's
        if auth is None:
            return False
        if auth.is_superuser:
            return True
        if rule is None:
            return False
        return await store.matches_rule(coll, record_id, rule, auth, context="protectedFile")

    @staticmethod
    def _thumb_allowed(field: dict[str, Any], filename: str, size: str, content_type: str = "") -> bool:
        if not filename.lower().endswith(thumbs.IMAGE_EXTENSIONS) or thumbs.parse(size) is None:
            return False
        if content_type.split(";", 1)[0].strip().lower() not in thumbs.IMAGE_TYPES:
            return False  # what the bytes are, not what the name says
        return size == thumbs.DEFAULT_THUMB or size in (field.get("thumbs") or [])

    async def _thumb(self, storage: FileStorage, key: str, thumb_key: str, size: str) -> FileInfo | None:
        """The stored thumb, made once (concurrent requests wait for the first); None on failure."""
        found = await storage.stat(thumb_key)
        if found is not None:
            return found
        lock = self._thumb_locks.setdefault(thumb_key, asyncio.Lock())
        try:
            async with lock:
                found = await storage.stat(thumb_key)
                if found is not None:
                    return found
                data = b"".join([chunk async for chunk in storage.open(key)])
                try:
                    thumb, content_type = await asyncio.to_thread(thumbs.make, data, size)
                except Exception:  # not an image after all: PocketBase serves the original
                    log.info("could not make thumb %s of %s", size, key, exc_info=True)
                    return None
                await storage.save(thumb_key, thumb, content_type=content_type)
                return await storage.stat(thumb_key)
        finally:
            if not lock.locked():
                self._thumb_locks.pop(thumb_key, None)


async def send_file(req: Any, resp: Any, storage: FileStorage, key: str, info: FileInfo, name: str) -> None:
    """Answer ``req`` with ``key`` as PocketBase serves a file (also the backups' downloads,
    through ``FileStorages.serve``)."""
    content_type = info.content_type or "application/octet-stream"
    bare = content_type.split(";", 1)[0].strip().lower()
    download = req.get_param("download") in TRUE
    disposition = "inline" if bare in INLINE_TYPES and not download else "attachment"
    quoted = name.replace("\\", "\\\\").replace('"', '\\"')
    modified = info.modified if info.modified.tzinfo else info.modified.replace(tzinfo=UTC)
    resp.content_type = content_type
    resp.set_header("Content-Disposition", f'{disposition}; filename="{quoted}"')
    resp.set_header("Cache-Control", CACHE_CONTROL)
    resp.set_header("Content-Security-Policy", CSP)
    resp.set_header("Accept-Ranges", "bytes")
    resp.set_header("Last-Modified", email.utils.format_datetime(modified.astimezone(UTC), usegmt=True))
    if _not_modified(req.get_header("If-Modified-Since"), modified):
        resp.status = 304
        return
    start, end = 0, info.size - 1
    byte_range = _parse_range(req.get_header("Range"), info.size)
    if isinstance(byte_range, str):  # "invalid"
        resp.status = 416
        resp.set_header("Content-Range", f"bytes */{info.size}")
        resp.content_type = "text/plain; charset=utf-8"
        resp.text = "invalid range: failed to overlap"
        return
    if byte_range is not None:
        start, end = byte_range
        resp.status = 206
        resp.set_header("Content-Range", f"bytes {start}-{end}/{info.size}")
    resp.content_length = max(0, end - start + 1)
    if req.method == "HEAD" or info.size == 0:
        resp.data = b"" if info.size == 0 else None
        return
    resp.stream = storage.open(key, start=start, end=end)


def _column_origin(conn: Any, view: str, column: str) -> tuple[str, str] | None:
    """``(table, column)`` that a view's column is read from (SQLite's column metadata, which
    sees through nested views), or None for a computed column."""
    quoted = view.replace('"', '""')
    cursor = conn.execute(f'SELECT v.* FROM (SELECT 1) LEFT JOIN "{quoted}" AS v ON 1 LIMIT 1')
    description = cursor.description_full
    cursor.fetchall()
    for name, _decltype, _database, table, origin in description:
        if name == column:
            return (table, origin) if table and origin else None
    return None


def _column_origin_postgres(conn: Any, view: str, column: str) -> tuple[str, str] | None:
    """The same on PostgreSQL, whose result metadata (the connection's ``description_full``)
    stops at a view: the view's own query is run without rows, and a column read from another
    view is followed into that one."""
    definition = _view_definition(conn, view)
    if definition is None:
        return None
    cursor = conn.execute(f"SELECT * FROM ({definition.strip().rstrip(';')}) AS v LIMIT 0")
    for name, _decltype, _database, table, origin in cursor.description_full:
        if name == column:
            if not table or not origin:
                return None
            if _view_definition(conn, table) is None:
                return table, origin
            return _column_origin_postgres(conn, table, origin)
    return None


def _view_definition(conn: Any, name: str) -> str | None:
    return conn.execute("SELECT pg_get_viewdef(to_regclass(?))", ('"' + name.replace('"', '""') + '"',)).get


def _not_modified(header: str | None, modified: datetime) -> bool:
    if not header:
        return False
    try:
        since = email.utils.parsedate_to_datetime(header)
    except (TypeError, ValueError):
        return False
    if since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    return int(modified.timestamp()) <= int(since.timestamp())


def _parse_range(header: str | None, size: int) -> tuple[int, int] | str | None:
    """One ``bytes=`` range as (start, end inclusive); None to send everything; "invalid" → 416."""
    if not header:
        return None
    header = header.strip()
    if not header.startswith("bytes="):
        return "invalid"
    spec = header[6:].strip()
    if "," in spec:
        return None  # several ranges: the whole file, as allowed
    first, sep, last = spec.partition("-")
    first, last = first.strip(), last.strip()
    if not sep or not all(part.isdigit() for part in (first, last) if part):
        return "invalid"  # digits only, as Go parses them (no signs, no underscores)
    try:
        if first == "":
            if not last:
                return "invalid"
            length = int(last)
            if length <= 0:
                return "invalid"
            return (max(0, size - length), size - 1) if size else "invalid"
        start = int(first)
        end = int(last) if last else size - 1
    except ValueError:
        return "invalid"
    if start < 0 or start >= size or end < start:
        return "invalid"
    return start, min(end, size - 1)


class FileToken:
    """``POST /api/files/token``: a short-lived file token for the authenticated record."""

    def __init__(self, app: App) -> None:
        self.app = app

    async def on_post(self, req: Any, resp: Any) -> None:
        auth = request_auth(req)
        if auth is None:
            raise ApiError(401, "The request requires valid record authorization token.")
        store = record_store(self.app)
        collection = store.collection(auth.collection_id)
        if collection is None:
            raise ApiError(401, "The request requires valid record authorization token.")
        option = (collection.options or {}).get("fileToken") or {}
        seconds = int(option.get("duration") or 0) or DEFAULT_TOKEN_DURATION
        resp.media = {"token": token_service(self.app).mint(auth.record, collection, "file", seconds=seconds)}


class TestS3:
    """``POST /api/settings/test/s3`` ``{filesystem: "storage"|"backups"}``: 204 or 400."""

    def __init__(self, app: App) -> None:
        self.app = app

    async def on_post(self, req: Any, resp: Any) -> None:
        require_superuser(req)
        body = await read_body(req, bad_json="An error occurred while loading the submitted data.")
        body.close()
        filesystem = body.data.get("filesystem")
        if filesystem not in ("storage", "backups"):
            raise ApiError(400, "Failed to test the S3 filesystem.", {
                "filesystem": FieldError("validation_in_invalid", "Must be a valid value."),
            })
        target = S3Storage(self.app, "s3" if filesystem == "storage" else "backups.s3", quick=True)
        try:
            await target.check(filesystem)
        except (S3Error, ValueError) as exc:
            raise ApiError(400, f"Failed to test the S3 filesystem. Raw error: \n{exc}") from exc
        resp.status = 204
