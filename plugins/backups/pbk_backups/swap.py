"""Swapping a restored ``pb_data`` in while no process has the databases open, and back out
when no server can start on it.

A restore extracts and checks the backup, then renames the result to ``pb_data/.pbk_restore``
(the staged restore) and asks for a restart. ``prepare`` runs from ``pbk_prepare_data_dir``
before the workers start again, holding the backup lock (it leaves the data dir alone while
another process makes a backup or restores one), and ``swap_in``:

1. every root entry of ``pb_data`` that a backup replaces (all but ``backups``, PocketBase's
   special folders, pbk's ``.pbk_*`` files and the names the restore kept, ``KEEP``) moves
   into ``.pbk_restore_old``, then the marker ``.pbk_restore_moved`` is written;
2. every such entry of the staged restore moves into ``pb_data``;
3. the staged folder is removed (the commit point), and the marker is renamed to
   ``.pbk_restore_trial``: the restored data has not started yet, the old data is kept.

The first worker that starts on the restored data (``commit``, at the ``serve`` event) removes
the trial marker, then the old data. If it cannot start, the kernel calls the hook again with
``after_failed_start`` and ``roll_back`` removes the restored entries, puts the old data back
and the server starts once more on it.

Every step is a rename inside ``pb_data``. A step that fails is undone (the new entries go
back to the staging folder, the old ones back into ``pb_data``) and the staged restore is
dropped, so the old data serves. A crash in the middle is finished at the next start: with the
marker, step 2 goes on; without it, step 1 does (each entry still in ``pb_data`` is old).
"""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

from .archive import TEMP_DIR, kept_entry
from .lock import BackupLock

log = logging.getLogger(__name__)

STAGED = ".pbk_restore"
OLD = ".pbk_restore_old"
MOVED = ".pbk_restore_moved"
TRIAL = ".pbk_restore_trial"
ROLLING_BACK = ".pbk_restore_rolling_back"
FAILED = ".pbk_restore_failed"
#: In the staged folder: the root entries of ``pb_data`` the restore keeps (the
#: ``backup_restore`` event's ``exclude``), one per line; the markers carry the same lines.
KEEP = ".pbk_keep"


def _movable(folder: Path, keep: frozenset[str]) -> list[str]:
    return sorted(name for name in os.listdir(folder) if not kept_entry(name) and name not in keep)


def _move_all(source: Path, target: Path, keep: frozenset[str] = frozenset()) -> None:
    for name in _movable(source, keep):
        os.rename(source / name, target / name)


def _kept(listing: Path) -> frozenset[str]:
    try:
        return frozenset(filter(None, listing.read_text().splitlines()))
    except FileNotFoundError:
        return frozenset()


def prepare(data_dir: Path, after_failed_start: bool) -> bool:
    """``pbk_prepare_data_dir``: swap a staged restore in, or, after a failed first start, put
    the old data back; True while the data dir holds a restore that has not started yet (or
    when the old data was just put back)."""
    lock = BackupLock(data_dir)
    if not lock.acquire(""):
        log.warning("restore: another process makes or restores a backup; pb_data is left as it is")
        return False
    try:
        if after_failed_start:
            return roll_back(data_dir)
        swap_in(data_dir)
        return (data_dir / TRIAL).exists()
    finally:
        lock.release()


def swap_in(data_dir: Path) -> bool:
    """Swap a staged restore in, finish an interrupted swap, or do nothing; True when the data
    was replaced. Failures are logged and undone, never raised: the old data then serves."""
    staged, old, moved, trial = data_dir / STAGED, data_dir / OLD, data_dir / MOVED, data_dir / TRIAL
    replaced = False
    if staged.is_dir():
        commit(data_dir)  # a restore over one no server started on yet: that one is the old data now
        keep = _kept(staged / KEEP)
        try:
            if not moved.exists():
                old.mkdir(exist_ok=True)
                _move_all(data_dir, old, keep)
                moved.write_text("\n".join(sorted(keep)))
            _move_all(staged, data_dir, keep)
            shutil.rmtree(staged)
            replaced = True
            log.warning("restore: the backup's data replaced pb_data")
        except OSError as exc:
            log.error("restore: swapping the backup in failed (%s); the previous data is kept", exc)
            _undo(data_dir)
            return False
    if moved.exists():  # swapped in (now, or before a crash): on trial until a worker starts
        os.replace(moved, trial)
    if old.exists() and not trial.exists():  # a trial a worker committed: what is left of the old data
        shutil.rmtree(old, ignore_errors=True)
    shutil.rmtree(data_dir / TEMP_DIR, ignore_errors=True)  # as PocketBase at every start
    return replaced


def commit(data_dir: Path) -> None:
    """A worker started on the restored data: it stays, the old data goes (call it on a
    thread)."""
    try:
        (data_dir / TRIAL).unlink()
    except FileNotFoundError:
        return
    log.warning("restore: the server started on the restored data; removing the previous data")
    shutil.rmtree(data_dir / OLD, ignore_errors=True)


def roll_back(data_dir: Path) -> bool:
    """No worker could start on the restored data: put the old data back; True when it did."""
    old, trial, rolling = data_dir / OLD, data_dir / TRIAL, data_dir / ROLLING_BACK
    if not trial.exists() or not old.is_dir():
        return False
    keep = _kept(trial)
    if not rolling.exists():  # until it is written, whatever is in pb_data came from the backup
        for name in _movable(data_dir, keep):
            path = data_dir / name
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                path.unlink()
        rolling.touch()
    _move_all(old, data_dir, keep)
    old.rmdir()
    trial.unlink()
    rolling.unlink()
    log.error("restore: the server could not start on the restored backup; the previous data is back")
    return True


def _undo(data_dir: Path) -> None:
    """Put the old data back after a failed swap and drop the staged restore."""
    staged, old, moved = data_dir / STAGED, data_dir / OLD, data_dir / MOVED
    keep = _kept(staged / KEEP)
    try:
        if old.is_dir():
            if moved.exists():
                _move_all(data_dir, staged, keep)  # what came from the backup goes back
            _move_all(old, data_dir, keep)
            old.rmdir()
        moved.unlink(missing_ok=True)
    except OSError as exc:
        log.critical("restore: putting the previous data back failed (%s); see %s", exc, old)
        raise
    shutil.rmtree(staged, ignore_errors=True)
    if staged.exists():  # a folder that cannot be emptied: out of the way, for the operator
        shutil.rmtree(data_dir / FAILED, ignore_errors=True)
        os.rename(staged, data_dir / FAILED)
