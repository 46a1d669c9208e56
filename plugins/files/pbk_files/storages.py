"""Storages for other plugins (``app.state[FILE_STORAGES]``): one per settings section, and
PocketBase's way of serving their files; the backups plugin keeps and serves its zips so."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pbk_sdk.interfaces import App, FileStorage

from .serve import send_file
from .storage import LocalStorage, S3Storage


class SectionStorages:
    """``pbk_sdk.interfaces.FileStorages``: S3 by another settings section (``backups.s3``)
    when it is enabled, else a local folder; each S3 storage is made once and follows its
    settings, as ``storage_for``'s does."""

    def __init__(self, app: App) -> None:
        self.app = app
        self._s3: dict[str, FileStorage] = {}

    def for_section(self, section: str, local_root: Path) -> FileStorage:
        if self.app.settings.get(f"{section}.enabled"):
            if section not in self._s3:
                self._s3[section] = S3Storage(self.app, section)
            return self._s3[section]
        return LocalStorage(self.app, local_root)

    async def serve(self, req: Any, resp: Any, storage: FileStorage, key: str, name: str) -> bool:
        try:
            info = await storage.stat(key)
        except ValueError:  # a key the storage refuses (``..``): no such file
            return False
        if info is None:
            return False
        await send_file(req, resp, storage, key, info, name)
        return True
