"""One backup or restore at a time for the whole data dir: an exclusive ``flock`` on
``pb_data/.pbk_backup.lock``, so every worker (and a ``pbk backups`` command) sees the same
answer, and the system drops it with the process that held it, however that process ends.

The file holds the name of the backup being made or restored, which must not be deleted
meanwhile (PocketBase's "currently being used" refusal).

``pb_data/.pbk_serving`` tells whether a server serves the data dir: every ``pbk serve`` holds
it shared, so ``pbk backups restore``, which replaces the data under no server only, can tell.
"""

from __future__ import annotations

import fcntl
import logging
import os
from pathlib import Path

log = logging.getLogger(__name__)

LOCK_FILE = ".pbk_backup.lock"


class BackupLock:
    """``pbk_sdk.interfaces.BackupStatus`` for one process: ``acquire``/``release`` around a
    backup or restore, ``busy()`` asked by anyone (a restore keeps it until the process ends)."""

    def __init__(self, data_dir: Path) -> None:
        self.path = Path(data_dir) / LOCK_FILE
        self._fd: int | None = None

    def acquire(self, name: str) -> bool:
        """Take the lock for backup ``name``; False when another backup or restore holds it."""
        if self._fd is not None:
            return False
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._fd = fd
        self.note(name)
        return True

    def note(self, name: str) -> None:
        """Record the name of the backup in use (known once a default name is chosen)."""
        if self._fd is not None:
            os.ftruncate(self._fd, 0)
            os.pwrite(self._fd, name.encode(), 0)

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def busy(self) -> bool:
        return self.active() is not None

    def active(self) -> str | None:
        """The name of the backup being made or restored, "" when it has none yet, None when
        nothing runs."""
        if self._fd is not None:
            return os.pread(self._fd, 1024, 0).decode(errors="replace")
        try:
            fd = os.open(self.path, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            return None
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:
                return os.pread(fd, 1024, 0).decode(errors="replace")
            return None
        finally:
            os.close(fd)


#: Held shared by every ``pbk serve`` (the supervisor, or the process serving alone) from its
#: first ``pbk_prepare_data_dir`` on; ``pbk backups restore`` takes it exclusively.
SERVING_FILE = ".pbk_serving"
_serving: dict[Path, int] = {}  # this process's shared hold, by data dir


def hold_serving(data_dir: Path) -> None:
    """Mark ``data_dir`` as served by this process until it ends (or re-executes itself); a
    ``pbk backups restore`` under way is waited for."""
    path = Path(data_dir) / SERVING_FILE
    if path in _serving:
        return
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        log.warning("waiting for `pbk backups restore` to finish on %s", data_dir)
        fcntl.flock(fd, fcntl.LOCK_SH)
    _serving[path] = fd


def claim_unserved(data_dir: Path) -> int | None:
    """An exclusive hold on ``data_dir`` no server serves (a file descriptor to close when
    done), or None while a ``pbk serve`` runs on it."""
    fd = os.open(Path(data_dir) / SERVING_FILE, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd
