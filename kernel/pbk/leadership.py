"""Leadership: the one live process, among all that serve a data dir, that does once-for-all work.

Scheduled jobs must run once however many workers serve (``pbk serve --workers N``), and also
when two servers are started on one data dir. The leader is the process holding an exclusive
``flock`` on ``pb_data/.pbk_leader``. The operating system drops the lock when its holder exits,
however it exits (a crash, SIGKILL), so the next process that claims it becomes the leader: no
supervisor has to notice the death, and there is never a moment with two holders.

A ``flock`` belongs to an open file description, which ``fork`` shares: the file is therefore
opened by the process that claims (never before a fork), and a process that finds a description
opened by its parent opens its own instead of believing it leads.
"""

from __future__ import annotations

import fcntl
import logging
import os
from pathlib import Path

log = logging.getLogger(__name__)

LEADER_FILE = ".pbk_leader"


class Leadership:
    """Claims and keeps the lock on ``path``; with no path (no data dir) this process leads."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._fd: int | None = None
        self._owner = 0  # the pid that opened _fd
        self._warned = False

    def claim(self) -> bool:
        """True while this process leads; takes the lock when no live process holds it."""
        if self.path is None:
            return True
        if self._fd is not None:
            if self._owner == os.getpid():
                return True
            os.close(self._fd)  # inherited through fork: the parent's lock, not ours
            self._fd = None
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        except OSError as exc:
            if not self._warned:
                self._warned = True
                log.warning("cannot open %s to elect the leader: %s", self.path, exc)
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:  # held by another live process (EWOULDBLOCK), or not lockable here
            os.close(fd)
            return False
        self._fd, self._owner = fd, os.getpid()
        return True

    def resign(self) -> None:
        """Give the role up (the app stops): another process may claim it at once."""
        if self._fd is not None:
            if self._owner == os.getpid():
                fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
