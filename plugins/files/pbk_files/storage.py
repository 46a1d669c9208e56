"""The two built-in ``file_storage`` backends: local disk and S3 (through ``minio``).

Both follow PocketBase's layout, keys ``<collectionId>/<recordId>/<name>``: on disk under
``pb_data/storage`` with PocketBase's ``<name>.attrs`` JSON sidecar, in S3 as objects of the
configured bucket with the content type and ``original-filename`` as object metadata.
``save_file`` (the SDK's ``FileStorage`` protocol) streams an open file, with the original
name as metadata; ``save`` takes bytes or async chunks.
"""

from __future__ import annotations

import abc
import asyncio
import base64
import hashlib
import io
import json
import os
import secrets
import shutil
import stat
import tempfile
from collections.abc import AsyncIterable, AsyncIterator, Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, TypeVar
from urllib.parse import quote

from pbk_sdk.interfaces import App, FileInfo

from .names import guess_type

T = TypeVar("T")

CHUNK = 256 * 1024
ATTRS = ".attrs"


def check_key(key: str) -> str:
    """Refuse keys that could leave the storage root, whatever the backend (a backslash is
    a plain character on the POSIX systems pbk runs on: PocketBase stores ``a\\b.zip``)."""
    parts = key.split("/")
    if not key or key.startswith("/") or "\x00" in key:
        raise ValueError(f"invalid storage key {key!r}")
    if any(p in ("", ".", "..") for p in parts[:-1]) or parts[-1] in (".", ".."):
        raise ValueError(f"invalid storage key {key!r}")
    return key


async def _chunks_of(data: bytes | AsyncIterable[bytes]) -> AsyncIterator[bytes]:
    if isinstance(data, (bytes, bytearray, memoryview)):
        yield bytes(data)
        return
    async for chunk in data:
        yield chunk


def _resolved_under(root: Path, key: str) -> Path:
    """``(root / key).resolve()`` for a resolved ``root`` and a checked ``key``: one ``lstat``
    per component of ``key`` that exists, not one per component of the whole path."""
    current = str(root)
    for part in key.split("/"):
        current = os.path.join(current, part)
        try:
            if stat.S_ISLNK(os.lstat(current).st_mode):
                return (root / key).resolve()
        except OSError:
            break  # missing from here on: resolve() would keep the rest as written
    return root / key


class _Backend(abc.ABC):
    """The writing side both backends share: keys are checked and the content type guessed
    from the name when not given, then ``_write`` streams the file; ``save`` spools bytes or
    chunks to a temp file first."""

    async def save(
        self, key: str, data: bytes | AsyncIterable[bytes], *, content_type: str | None = None
    ) -> None:
        check_key(key)
        with tempfile.SpooledTemporaryFile(max_size=CHUNK * 4) as spool:
            size = 0
            async for chunk in _chunks_of(data):
                size += len(chunk)
                await asyncio.to_thread(spool.write, chunk)
            await self.save_file(key, spool, size, content_type=content_type)

    async def save_file(
        self,
        key: str,
        fileobj: IO[bytes],
        size: int,
        *,
        content_type: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> None:
        check_key(key)
        await self._write(key, fileobj, size, content_type or guess_type(key), dict(metadata or {}))

    @abc.abstractmethod
    async def _write(
        self, key: str, fileobj: IO[bytes], size: int, content_type: str, metadata: dict[str, str]
    ) -> None:
        """Store ``size`` bytes of ``fileobj`` (read from its start) under a checked ``key``."""


class LocalStorage(_Backend):
    """``pb_data/storage/<key>`` plus ``<key>.attrs``, as PocketBase's local filesystem."""

    def __init__(self, app: App, root: Path | None = None) -> None:
        self.app = app
        self._root = root

    @property
    def root(self) -> Path:
        return self._root or Path(self.app.data_dir) / "storage"

    def path(self, key: str) -> Path:
        check_key(key)
        root = self.root.resolve()
        target = _resolved_under(root, key)
        if not str(target).startswith(os.path.join(root, "")):
            raise ValueError(f"invalid storage key {key!r}")
        return target

    async def _write(
        self, key: str, fileobj: IO[bytes], size: int, content_type: str, metadata: dict[str, str]
    ) -> None:
        # On a thread even when small: on the event loop a 256 KiB write stalled the worker's
        # other requests 2.4 ms (8.5 ms p99) on ext4, and more on a slow or network disk.
        await asyncio.to_thread(self._copy, self.path(key), fileobj, content_type, metadata)

    def _copy(self, path: Path, fileobj: IO[bytes], content_type: str, metadata: Mapping[str, str]) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        # A name of its own per write ("x": created, never shared), so two uploads of one
        # key never write into one file; the backups plugin skips these (``.<name>.<16 hex>.tmp``).
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
        digest = hashlib.md5()
        fileobj.seek(0)
        try:
            with open(tmp, "xb") as out:
                while chunk := fileobj.read(CHUNK):
                    digest.update(chunk)
                    out.write(chunk)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        self._finish(tmp, path, content_type, digest, metadata)

    def _finish(self, tmp: Path, path: Path, content_type: str, digest: Any, metadata: Mapping[str, str]) -> None:
        attrs = {
            "user.cache_control": "",
            "user.content_disposition": "",
            "user.content_encoding": "",
            "user.content_language": "",
            "user.content_type": content_type,
            "user.metadata": dict(metadata) or None,
            "md5": base64.b64encode(digest.digest()).decode(),
        }
        os.replace(tmp, path)
        path.with_name(path.name + ATTRS).write_text(json.dumps(attrs, separators=(",", ":")))

    async def stat(self, key: str) -> FileInfo | None:
        try:
            path = self.path(key)
        except ValueError:
            return None
        return await asyncio.to_thread(self._stat, key, path)

    def _stat(self, key: str, path: Path) -> FileInfo | None:
        if path.name.endswith(ATTRS) or not path.is_file():
            return None
        st = path.stat()
        content_type = ""
        try:
            attrs = json.loads(path.with_name(path.name + ATTRS).read_text())
            content_type = str(attrs.get("user.content_type") or "")
        except (OSError, ValueError):
            pass
        modified = datetime.fromtimestamp(st.st_mtime, UTC)
        return FileInfo(key, st.st_size, modified, content_type or guess_type(key))

    async def open(self, key: str, *, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        path = self.path(key)
        handle = await asyncio.to_thread(open, path, "rb")
        try:
            await asyncio.to_thread(handle.seek, start)
            remaining = None if end is None else end - start + 1
            while remaining is None or remaining > 0:
                size = CHUNK if remaining is None else min(CHUNK, remaining)
                chunk = await asyncio.to_thread(handle.read, size)
                if not chunk:
                    break
                if remaining is not None:
                    remaining -= len(chunk)
                yield chunk
        finally:
            handle.close()

    async def delete(self, key: str) -> None:
        path = self.path(key)

        def remove() -> None:
            path.unlink(missing_ok=True)
            path.with_name(path.name + ATTRS).unlink(missing_ok=True)
            self._prune(path.parent)

        await asyncio.to_thread(remove)

    def _prune(self, directory: Path) -> None:
        root = self.root.resolve()
        while directory != root and root in directory.parents:
            try:
                directory.rmdir()
            except OSError:
                return
            directory = directory.parent

    async def delete_prefix(self, prefix: str) -> None:
        prefix = prefix.rstrip("/")
        path = self.path(prefix)

        def remove() -> None:
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            self._prune(path.parent)

        await asyncio.to_thread(remove)

    async def list(self, prefix: str) -> list[FileInfo]:
        prefix = prefix.rstrip("/")
        base = self.path(prefix) if prefix else self.root.resolve()

        def walk() -> list[FileInfo]:
            out: list[FileInfo] = []
            if not base.is_dir():
                return out
            for path in sorted(base.rglob("*")):
                if path.is_file() and not path.name.endswith(ATTRS) and not path.name.endswith(".tmp"):
                    key = path.relative_to(self.root.resolve()).as_posix()
                    info = self._stat(key, path)
                    if info is not None:
                        out.append(info)
            return out

        return await asyncio.to_thread(walk)


def _http_client(quick: bool) -> Any:
    """Bounded waits (minio's default waits minutes, and uploads run inside the write
    transaction): connection tests give up after 10 s and one retry, file transfers after 30 s
    of silence and two retries."""
    import certifi
    import urllib3

    return urllib3.PoolManager(
        timeout=urllib3.Timeout(connect=5, read=10 if quick else 30),
        cert_reqs="CERT_REQUIRED",
        ca_certs=os.environ.get("SSL_CERT_FILE") or certifi.where(),
        retries=urllib3.Retry(total=1 if quick else 2, backoff_factor=0.2, status_forcelist=[500, 502, 503, 504]),
    )


def _safe_reason(exc: Exception) -> str:
    """What failed, without the response body: a superuser can point the endpoint anywhere,
    and the answer of a host that is not S3 must not be echoed back."""
    code = str(getattr(exc, "code", "") or "")
    if code:
        return f"{code}: {getattr(exc, 'message', '') or ''}".strip().rstrip(":")
    if exc.__class__.__name__ == "InvalidResponseError":
        return "The endpoint did not answer as an S3 server."
    reason = getattr(exc, "reason", None)
    return f"{exc.__class__.__name__}: {reason}" if reason else exc.__class__.__name__


class S3Error(Exception):
    """A readable S3 failure (wraps minio's errors); ``code`` is S3's error code when it sent one."""

    def __init__(self, message: str, code: str = "") -> None:
        super().__init__(message)
        self.code = code


class S3Storage(_Backend):
    """Objects in the bucket of ``settings.s3`` (or another settings section), via ``minio``.

    The client follows the settings: a new configuration builds a new client on next use, so
    switching buckets or endpoints needs no restart.
    """

    def __init__(
        self, app: App, section: str = "s3", *, config: Mapping[str, Any] | None = None, quick: bool = False
    ) -> None:
        self.app = app
        self.section = section
        self._fixed = dict(config) if config is not None else None
        self._quick = quick
        self._client: Any = None
        self._config: tuple[Any, ...] | None = None

    def config(self) -> dict[str, Any]:
        """The settings in use: given ones (a connection test of new settings) or the app's."""
        if self._fixed is not None:
            return dict(self._fixed)
        return dict(self.app.settings.get(self.section) or {})

    def client(self) -> tuple[Any, str]:
        from urllib.parse import urlsplit

        from minio import Minio

        cfg = self.config()
        key = tuple(cfg.get(k) for k in ("endpoint", "bucket", "region", "accessKey", "secret", "forcePathStyle"))
        if self._client is None or key != self._config:
            endpoint = str(cfg.get("endpoint") or "").strip()
            if not endpoint:
                raise S3Error("Missing S3 endpoint.")
            if not cfg.get("bucket"):
                raise S3Error("Missing S3 bucket.")
            if "://" not in endpoint:
                endpoint = "https://" + endpoint
            parts = urlsplit(endpoint)
            self._client = Minio(
                parts.netloc,
                access_key=str(cfg.get("accessKey") or "") or None,
                secret_key=str(cfg.get("secret") or "") or None,
                secure=parts.scheme == "https",
                region=str(cfg.get("region") or "") or None,
                http_client=_http_client(self._quick),
            )
            if cfg.get("forcePathStyle"):
                # otherwise minio picks virtual-host style for AWS and path style elsewhere
                self._client.disable_virtual_style_endpoint()
            self._config = key
        return self._client, str(cfg["bucket"])

    async def _call(self, fn: Callable[[], T]) -> T:
        try:
            return await asyncio.to_thread(fn)
        except S3Error:
            raise
        except Exception as exc:  # minio.error.S3Error, urllib3 errors: say what failed
            raise S3Error(_safe_reason(exc), str(getattr(exc, "code", "") or "")) from exc

    async def _write(
        self, key: str, fileobj: IO[bytes], size: int, content_type: str, metadata: dict[str, str]
    ) -> None:
        # S3 metadata is US-ASCII: other characters are percent-encoded
        ascii_metadata = {k: v if v.isascii() else quote(v, safe=" ") for k, v in metadata.items()}

        def put() -> None:
            client, bucket = self.client()
            fileobj.seek(0)
            client.put_object(bucket, key, fileobj, size, content_type=content_type, metadata=ascii_metadata or None)

        await self._call(put)

    async def stat(self, key: str) -> FileInfo | None:
        try:
            check_key(key)
        except ValueError:
            return None
        from minio.error import S3Error as MinioError

        def head() -> FileInfo | None:
            client, bucket = self.client()
            try:
                obj = client.stat_object(bucket, key)
            except MinioError as exc:
                if exc.code in ("NoSuchKey", "NoSuchObject", "NotFound", "ResourceNotFound"):
                    return None
                raise
            modified = obj.last_modified or datetime.now(UTC)
            return FileInfo(key, int(obj.size or 0), modified, obj.content_type or guess_type(key))

        return await self._call(head)

    async def open(self, key: str, *, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        check_key(key)
        length = 0 if end is None else end - start + 1

        def get() -> Any:
            client, bucket = self.client()
            return client.get_object(bucket, key, offset=start, length=length)

        response = await self._call(get)
        try:
            while chunk := await asyncio.to_thread(response.read, CHUNK):
                yield chunk
        finally:
            response.close()
            response.release_conn()

    async def delete(self, key: str) -> None:
        check_key(key)

        def remove() -> None:
            client, bucket = self.client()
            client.remove_object(bucket, key)

        await self._call(remove)

    async def delete_prefix(self, prefix: str) -> None:
        check_key(prefix.rstrip("/") or "x")
        from minio.deleteobjects import DeleteObject

        def remove() -> None:
            client, bucket = self.client()
            names = [o.object_name for o in client.list_objects(bucket, prefix=prefix.rstrip("/") + "/", recursive=True)]
            for start in range(0, len(names), 1000):
                errors = list(client.remove_objects(bucket, [DeleteObject(n) for n in names[start : start + 1000]]))
                if errors:
                    raise S3Error(str(errors[0]))

        await self._call(remove)

    async def list(self, prefix: str) -> list[FileInfo]:
        def walk() -> list[FileInfo]:
            client, bucket = self.client()
            out = []
            for obj in client.list_objects(bucket, prefix=prefix, recursive=True):
                modified = obj.last_modified or datetime.now(UTC)
                out.append(FileInfo(obj.object_name, int(obj.size or 0), modified, guess_type(obj.object_name)))
            return out

        return await self._call(walk)

    async def check(self, label: str = "storage") -> None:
        """PocketBase's connection test: write and delete a small object."""
        from .names import random_string

        if not self.config().get("enabled"):
            raise S3Error(f"S3 {label} filesystem is not enabled.")
        key = f"pb_settings_test_{random_string(12)}.txt"
        data = io.BytesIO(b"test")

        def roundtrip() -> None:
            client, bucket = self.client()
            client.put_object(bucket, key, data, 4, content_type="text/plain")
            client.remove_object(bucket, key)

        await self._call(roundtrip)
