"""Swapping a restored ``pb_data`` in while no process has the databases open.

A restore extracts and checks the backup, then renames the result to ``pb_data/.pbk_restore``
(the staged restore) and asks for a restart. ``swap_in`` runs from ``pbk_prepare_data_dir``
before the workers start again:

1. every root entry of ``pb_data`` that a backup replaces (all but ``backups``, PocketBase's
   special folders and pbk's ``.pbk_*`` files) moves into ``.pbk_restore_old``, then the marker
   ``.pbk_restore_moved`` is written;
2. every entry of the staged restore moves into ``pb_data``;
3. the staged folder is removed (the commit point), then the old data and the marker.

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

log = logging.getLogger(__name__)

STAGED = ".pbk_restore"
OLD = ".pbk_restore_old"
MOVED = ".pbk_restore_moved"
FAILED = ".pbk_restore_failed"


def _movable(folder: Path) -> list[str]:
    return sorted(name for name in os.listdir(folder) if not kept_entry(name))


def _move_all(source: Path, target: Path) -> None:
    for name in _movable(source):
        os.rename(source / name, target / name)


def swap_in(data_dir: Path) -> bool:
    """Swap a staged restore in, finish an interrupted swap, or do nothing; True when the data
    was replaced. Failures are logged and undone, never raised: the old data then serves."""
    staged, old, moved = data_dir / STAGED, data_dir / OLD, data_dir / MOVED
    replaced = False
    if staged.is_dir():
        try:
            if not moved.exists():
                old.mkdir(exist_ok=True)
                _move_all(data_dir, old)
                moved.touch()
            _move_all(staged, data_dir)
            shutil.rmtree(staged)
            replaced = True
            log.warning("restore: the backup's data replaced pb_data")
        except OSError as exc:
            log.error("restore: swapping the backup in failed (%s); the previous data is kept", exc)
            _undo(data_dir)
            return False
    if old.exists():
        shutil.rmtree(old, ignore_errors=True)
    moved.unlink(missing_ok=True)
    shutil.rmtree(data_dir / TEMP_DIR, ignore_errors=True)  # as PocketBase at every start
    return replaced


def _undo(data_dir: Path) -> None:
    """Put the old data back after a failed swap and drop the staged restore."""
    staged, old, moved = data_dir / STAGED, data_dir / OLD, data_dir / MOVED
    try:
        if old.is_dir():
            if moved.exists():
                _move_all(data_dir, staged)  # what came from the backup goes back
            _move_all(old, data_dir)
            old.rmdir()
        moved.unlink(missing_ok=True)
    except OSError as exc:
        log.critical("restore: putting the previous data back failed (%s); see %s", exc, old)
        raise
    shutil.rmtree(staged, ignore_errors=True)
    if staged.exists():  # a folder that cannot be emptied: out of the way, for the operator
        shutil.rmtree(data_dir / FAILED, ignore_errors=True)
        os.rename(staged, data_dir / FAILED)
