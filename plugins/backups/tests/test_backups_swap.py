"""Swapping a staged restore in (``pbk_prepare_data_dir``): the whole swap, a swap a crash
interrupted at either step, and a swap the file system refuses halfway (the old data stays);
the old data kept until a worker starts on the new (``commit``) or put back when none can
(``roll_back``); root entries a restore keeps; nothing done while another process holds the
backup lock.

The refusal is real: a staged file the system will not move, made immutable with ``chattr +i``
(even root cannot rename it), or, for a user other than root, a staging folder without write
permission.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from pbk_backups.lock import LOCK_FILE
from pbk_backups.swap import FAILED, KEEP, MOVED, OLD, STAGED, TRIAL, commit, prepare, swap_in


def tree(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` (relative path → text) but the backup lock."""
    return {p.relative_to(folder).as_posix(): p.read_text() for p in sorted(folder.rglob("*"))
            if p.is_file() and p.name != LOCK_FILE}


def write(folder: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)


OLD_DATA = {"data.db": "old db", "auxiliary.db": "old aux", "storage/c1/r1/a.txt": "old file"}
NEW_DATA = {"data.db": "new db", "auxiliary.db": "new aux", "storage/c1/r2/b.txt": "new file", "zz.txt": "new"}
KEPT = {"backups/b1.zip": "zip", ".pbk_leader": "", ".autocert_cache/cert": "cert"}


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "pb_data"
    write(folder, {**OLD_DATA, **KEPT})
    write(folder / STAGED, NEW_DATA)
    return folder


def on_trial(data_dir: Path) -> dict[str, str]:
    """What ``data_dir`` holds while a restored backup waits for its first start."""
    return {**NEW_DATA, **KEPT, **{f"{OLD}/{name}": text for name, text in OLD_DATA.items()}, TRIAL: ""}


def test_a_staged_restore_replaces_the_data_and_keeps_backups(data_dir: Path) -> None:
    assert prepare(data_dir, after_failed_start=False) is True  # on trial: the kernel may call again
    assert tree(data_dir) == on_trial(data_dir)
    assert prepare(data_dir, after_failed_start=False) is True  # a start that never came: still on trial
    commit(data_dir)  # a worker started on it
    assert tree(data_dir) == {**NEW_DATA, **KEPT}
    assert prepare(data_dir, after_failed_start=False) is False  # nothing staged: nothing happens
    assert prepare(data_dir, after_failed_start=True) is False
    assert tree(data_dir) == {**NEW_DATA, **KEPT}


def test_a_restore_over_one_no_server_started_on_replaces_that_one(data_dir: Path) -> None:
    assert swap_in(data_dir) is True  # pbk backups restore, twice, no server between
    write(data_dir / STAGED, {"data.db": "newer db"})
    assert swap_in(data_dir) is True
    assert prepare(data_dir, after_failed_start=True) is True  # no server can start on it
    assert tree(data_dir) == {**NEW_DATA, **KEPT}


def test_a_restore_no_worker_can_start_on_is_rolled_back(data_dir: Path) -> None:
    assert prepare(data_dir, after_failed_start=False) is True
    assert prepare(data_dir, after_failed_start=True) is True
    assert tree(data_dir) == {**OLD_DATA, **KEPT}
    assert prepare(data_dir, after_failed_start=True) is False  # nothing more to put back


def test_root_entries_a_restore_keeps_stay(data_dir: Path) -> None:
    write(data_dir, {"mine/x.txt": "current"})
    write(data_dir / STAGED, {"mine/x.txt": "from the backup", KEEP: "mine\n"})
    assert swap_in(data_dir) is True
    commit(data_dir)
    assert tree(data_dir) == {**NEW_DATA, **KEPT, "mine/x.txt": "current"}
    write(data_dir / STAGED, {**OLD_DATA, KEEP: "mine"})
    assert prepare(data_dir, after_failed_start=False) is True
    assert prepare(data_dir, after_failed_start=True) is True  # rolled back: kept entries untouched
    assert tree(data_dir) == {**NEW_DATA, **KEPT, "mine/x.txt": "current"}


def test_nothing_is_touched_while_another_process_holds_the_backup_lock(data_dir: Path) -> None:
    write(data_dir, {".pb_temp_to_delete/pb_backup_x/data.db": "a backup being made"})
    holder = subprocess.Popen(["python3", "-c", HOLD_LOCK, str(data_dir / LOCK_FILE)], stdout=subprocess.PIPE)
    try:
        assert holder.stdout is not None and holder.stdout.readline() == b"held\n"
        assert prepare(data_dir, after_failed_start=False) is False
        assert tree(data_dir)[".pb_temp_to_delete/pb_backup_x/data.db"] == "a backup being made"
        assert (data_dir / STAGED).is_dir()
    finally:
        holder.kill()
        holder.wait()


HOLD_LOCK = """
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT)
fcntl.flock(fd, fcntl.LOCK_EX)
print("held", flush=True)
time.sleep(60)
"""


def test_a_crash_while_moving_the_old_data_out_is_finished(data_dir: Path) -> None:
    (data_dir / OLD).mkdir()
    os.rename(data_dir / "data.db", data_dir / OLD / "data.db")  # then the process died
    assert swap_in(data_dir) is True
    commit(data_dir)
    assert tree(data_dir) == {**NEW_DATA, **KEPT}


def test_a_crash_while_moving_the_new_data_in_is_finished(data_dir: Path) -> None:
    (data_dir / OLD).mkdir()
    for name in ("auxiliary.db", "data.db", "storage"):
        os.rename(data_dir / name, data_dir / OLD / name)
    (data_dir / MOVED).touch()
    os.rename(data_dir / STAGED / "auxiliary.db", data_dir / "auxiliary.db")  # then the process died
    assert swap_in(data_dir) is True
    assert tree(data_dir) == on_trial(data_dir)


@contextmanager
def unmovable(path: Path, later: Path) -> Iterator[None]:
    """``path`` cannot be renamed until the block ends (by then it may have moved to ``later``,
    its folder renamed as a whole)."""
    if os.geteuid() != 0:
        path.parent.chmod(0o555)
        try:
            yield
        finally:
            (path if path.exists() else later).parent.chmod(0o755)
        return
    if shutil.which("chattr") is None or subprocess.run(["chattr", "+i", str(path)], check=False).returncode:
        pytest.skip("running as root without chattr +i: nothing makes a rename fail")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(path if path.exists() else later)], check=True)


def test_a_swap_the_file_system_refuses_leaves_the_old_data(data_dir: Path) -> None:
    # zz.txt moves last: data.db and the rest of the backup are in place when the refusal comes.
    with unmovable(data_dir / STAGED / "zz.txt", data_dir / FAILED / "zz.txt"):
        assert swap_in(data_dir) is False
        # What of the staged restore could not be removed is set aside, out of the next start's way.
        assert tree(data_dir / FAILED) == {"zz.txt": "new"}
        assert not (data_dir / STAGED).exists() and not (data_dir / OLD).exists() and not (data_dir / MOVED).exists()
        assert {k: v for k, v in tree(data_dir).items() if not k.startswith(FAILED)} == {**OLD_DATA, **KEPT}
        assert swap_in(data_dir) is False  # the failed restore is not tried again
