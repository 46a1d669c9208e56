"""Per-machine caches that tests fill on first use (npm packages, downloaded binaries).

Several processes may ask for the same cache at once: pytest-xdist's workers, or the test runs
of two checkouts on one machine. ``filled_once`` lets one of them fill it, under a file lock,
into a new folder renamed into place when complete, so no process ever sees a half-filled
cache and none fills it twice.
"""

from __future__ import annotations

import contextlib
import fcntl
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path


@contextlib.contextmanager
def exclusive(lock_path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``lock_path`` (created if missing); other processes wait."""
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with lock_path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def filled_once(
    target: Path, complete: Callable[[Path], bool], fill: Callable[[Path], None]
) -> Path:
    """``target`` once ``complete(target)``: if it is not, ``fill(work)`` fills a new empty
    folder that then replaces ``target`` (a half-filled one left by an interrupted run)."""
    if complete(target):
        return target
    with exclusive(target.with_name(target.name + ".lock")):
        if complete(target):  # another process filled it while this one waited
            return target
        work = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
        work.chmod(0o755)  # as a folder made by mkdir, not mkdtemp's 0o700
        try:
            fill(work)
            if target.exists():
                shutil.rmtree(target)
            work.rename(target)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    return target
