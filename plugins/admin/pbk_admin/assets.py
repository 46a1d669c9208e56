"""The built dashboard, held in memory and sent precompressed.

``dist/`` is small (a few hundred KB with its ``.gz`` and ``.br`` twins), so it is read once
when the app is built. Hashed files under ``assets/`` never change under their name and are
cached for a year; ``index.html`` names them, so browsers revalidate it on every load.
"""

from __future__ import annotations

import hashlib
import mimetypes
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pbk_sdk.auth import require_superuser
from pbk_sdk.errors import ApiError
from pbk_sdk.interfaces import App

DIST = Path(__file__).parent / "dist"
INDEX = "index.html"
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
ENCODINGS = (("br", ".br"), ("gzip", ".gz"))  # preferred first
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; connect-src 'self'; frame-ancestors 'self'"
)


@dataclass(frozen=True)
class Asset:
    """One file of the build: its bytes, and the same compressed, by encoding."""

    content_type: str
    body: bytes
    etag: str
    encoded: dict[str, bytes] = field(default_factory=dict)

    def pick(self, accept_encoding: str) -> tuple[str | None, bytes]:
        accepted = _accepted_encodings(accept_encoding)
        for encoding, _ in ENCODINGS:
            if encoding in accepted and encoding in self.encoded:
                return encoding, self.encoded[encoding]
        return None, self.body

    def etag_of(self, encoding: str | None) -> str:
        """A strong ETag per representation (``-br``, ``-gz``): the bytes differ by encoding."""
        suffix = dict(ENCODINGS).get(encoding or "", "").replace(".", "-")
        return self.etag[:-1] + suffix + '"'


@dataclass(frozen=True)
class Assets:
    files: dict[str, Asset]

    @classmethod
    def load(cls, root: Path) -> Assets:
        """Every file of ``root`` but the compressed twins, keyed by its path under it."""
        compressed = tuple(suffix for _, suffix in ENCODINGS)
        files = {}
        for path in sorted(root.rglob("*")):
            if not path.is_file() or path.name.endswith(compressed):
                continue
            body = path.read_bytes()
            encoded = {
                encoding: twin.read_bytes()
                for encoding, suffix in ENCODINGS
                if (twin := path.with_name(path.name + suffix)).is_file()
            }
            content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            if content_type.startswith("text/") or content_type.endswith("javascript"):
                content_type += "; charset=utf-8"
            etag = '"' + hashlib.sha256(body).hexdigest()[:20] + '"'
            files[path.relative_to(root).as_posix()] = Asset(content_type, body, etag, encoded)
        return cls(files)


def _accepted_encodings(header: str) -> set[str]:
    """The codings ``Accept-Encoding`` allows (``q=0`` refuses one)."""
    accepted = set()
    for part in header.split(","):
        name, _, params = part.partition(";")
        quality = params.strip().removeprefix("q=") if params.strip().startswith("q=") else "1"
        try:
            if float(quality) > 0:
                accepted.add(name.strip().lower())
        except ValueError:
            continue
    return accepted


def _none_match(header: str | None, etag: str) -> bool:
    """Whether ``If-None-Match`` (``*`` or a list of tags) names ``etag``; weak comparison,
    as RFC 9110 asks for this header, so ``W/"x"`` matches ``"x"``."""
    if not header:
        return False
    tags = [tag.strip().removeprefix("W/") for tag in header.split(",")]
    return "*" in tags or etag in tags


class DashboardRedirect:
    """``/_`` → ``/_/``, as Go's router sends a folder's bare path to the folder."""

    async def on_get(self, req: Any, resp: Any) -> None:
        query = f"?{req.query_string}" if req.query_string else ""
        resp.status = 301
        resp.set_header("Location", req.path + "/" + query)


class DashboardFiles:
    """``/_/`` is the app's page; ``/_/{path}`` its files (a missing one is a 404)."""

    def __init__(self, assets: Assets) -> None:
        self._assets = assets

    async def on_get_index(self, req: Any, resp: Any) -> None:
        self._send(req, resp, INDEX)

    async def on_get(self, req: Any, resp: Any, path: str) -> None:
        self._send(req, resp, path)

    def _send(self, req: Any, resp: Any, path: str) -> None:
        asset = self._assets.files.get(path)
        if asset is None:
            raise ApiError(404, "File not found.")
        encoding, body = asset.pick(req.get_header("Accept-Encoding") or "")
        etag = asset.etag_of(encoding)
        resp.set_header("Cache-Control", REVALIDATE if path == INDEX else IMMUTABLE)
        resp.set_header("ETag", etag)
        resp.append_header("Vary", "Accept-Encoding")
        if path == INDEX:
            resp.set_header("Content-Security-Policy", CSP)
        if _none_match(req.get_header("If-None-Match"), etag):
            resp.status = 304
            return
        resp.content_type = asset.content_type
        if encoding:
            resp.set_header("Content-Encoding", encoding)
        resp.content_length = len(body)
        if req.method != "HEAD":
            resp.data = body


class Features:
    """``GET /api/admin/features``: the plugins this server runs (the names ``pbk plugins``
    lists), so the dashboard offers only the pages whose API is served. Superusers only:
    nobody else learns what the server runs (401/403 as PocketBase's superuser routes)."""

    def __init__(self, app: App) -> None:
        self._plugins = sorted(plugin.name for plugin in app.plugins)

    async def on_get(self, req: Any, resp: Any) -> None:
        require_superuser(req)
        resp.set_header("Cache-Control", REVALIDATE)
        resp.media = {"plugins": self._plugins}
