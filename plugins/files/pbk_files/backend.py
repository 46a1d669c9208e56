"""Which ``file_storage`` backend an app uses: ``PBK_FILE_STORAGE`` when set, else ``s3`` when
``settings.s3.enabled``, else ``local`` (see docs/files.md).

The environment variable is read once per app, at start-up (never at import), so tests can
build apps that use different backends; the settings are read on every call, so switching
between ``local`` and ``s3`` needs no restart.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from pbk_sdk.interfaces import FILE_STORAGE, App, FileStorage
from pbk_sdk.state import StateKey


@dataclass(frozen=True)
class FilesConfig:
    #: ``PBK_FILE_STORAGE``: a registered provider (a third-party plugin's backend, say) that
    #: replaces the choice the settings make; empty leaves it to the settings.
    storage: str = ""

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ) -> FilesConfig:
        return cls(storage=environ.get("PBK_FILE_STORAGE", ""))


#: Set by the plugin's ``pbk_startup``.
FILES_CONFIG: StateKey[FilesConfig] = StateKey("files.config")


def storage_name(app: App, s3_enabled: bool | None = None) -> str:
    """The name of the backend in use now, or with ``s3.enabled`` set to ``s3_enabled`` (for
    settings about to be saved)."""
    if s3_enabled is None:
        s3_enabled = bool(app.settings.get("s3.enabled"))
    return app.state[FILES_CONFIG].storage or ("s3" if s3_enabled else "local")


def storage_for(app: App) -> FileStorage:
    """The backend in use now."""
    return app.services.get(FILE_STORAGE, storage_name(app))

