"""The backup zip, as PocketBase's ``tools/archive`` lays it out: every regular file of
``pb_data`` at its path relative to ``pb_data``, deflated, directories implied by the paths.

Creating one (sync, run on a thread): ``data.db`` and ``auxiliary.db`` are first copied with
SQLite's online backup API (``snapshot_database``, stepped, holding one read transaction so
the copy is one consistent moment however many workers write meanwhile); those copies go into
the zip in place of the live files, and the rest of ``pb_data`` as it is. Left out: what
PocketBase leaves out (``backups``, ``.pb_temp_to_delete``, ``.notify``, ``.autocert_cache``,
``lost+found``) and pbk's runtime files (``.pbk_*``, SQLite's ``-wal``/``-shm``/``-journal``).

Extracting one checks every entry (no absolute path, no ``..``, regular files and folders
only), then ``check_databases`` that ``data.db`` is an SQLite database SQLite finds sound
(``PRAGMA quick_check``) holding PocketBase's ``_collections``, and ``auxiliary.db``, when
there is one, sound too: before anything is swapped in.
"""

from __future__ import annotations

import logging
import os
import re
import stat
import time
import zipfile
from collections.abc import Callable, Collection, Iterator
from pathlib import Path, PurePosixPath
from typing import Any

log = logging.getLogger(__name__)

#: Root entries of ``pb_data`` PocketBase leaves out of a backup and keeps through a restore.
POCKETBASE_KEPT = frozenset({"backups", ".pb_temp_to_delete", ".notify", ".autocert_cache", "lost+found"})
#: pbk's runtime files in ``pb_data`` (leader lock, cron tick, backup lock, restore staging).
PBK_PREFIX = ".pbk_"
SQLITE_SIDE_FILES = ("-wal", "-shm", "-journal")
DATABASES = ("data.db", "auxiliary.db")
TEMP_DIR = ".pb_temp_to_delete"
SQLITE_HEADER = b"SQLite format 3\x00"
#: The files plugin's storage writes an upload to ``.<name>.<random>.tmp`` beside its target,
#: then renames it: such a file is half an upload, never backed up.
STORAGE_TEMP = re.compile(r"\..+\.[0-9a-f]{16}\.tmp")
#: Pages copied per backup step; the copy reports progress between steps.
PAGES_PER_STEP = 4096
#: Progress is logged at most this often (seconds).
PROGRESS_EVERY = 2.0

Progress = Callable[[str], None]


class BackupError(Exception):
    """A backup that cannot be made or restored; the message says why."""


def kept_entry(name: str) -> bool:
    """A root entry of ``pb_data`` that is neither backed up nor replaced by a restore."""
    return name in POCKETBASE_KEPT or name.startswith(PBK_PREFIX)


def skipped_file(relative: PurePosixPath) -> bool:
    return (kept_entry(relative.parts[0]) or relative.name.endswith(SQLITE_SIDE_FILES)
            or STORAGE_TEMP.fullmatch(relative.name) is not None)


class Reporter:
    """Progress lines, at most one every ``PROGRESS_EVERY`` seconds: shown by ``show`` (the
    CLI's) when given, else logged."""

    def __init__(self, show: Progress | None) -> None:
        self.show = show
        self.last = 0.0

    def __call__(self, message: str, *, final: bool = False) -> None:
        now = time.monotonic()
        if not final and now - self.last < PROGRESS_EVERY:
            return
        self.last = now
        if self.show is not None:
            self.show(message)
        else:
            log.info("%s", message)


def snapshot_database(conn: Any, target: Path, label: str, report: Reporter) -> None:
    """Copy the database of ``conn`` to ``target`` with SQLite's backup API, step by step.

    A read transaction held on ``conn`` for the whole copy pins one snapshot (WAL mode), so
    writers carry on and the copy never restarts."""
    import apsw

    dest = apsw.Connection(str(target))
    try:
        conn.execute("BEGIN")
        try:
            conn.execute("SELECT count(*) FROM sqlite_schema").fetchall()
            with dest.backup("main", conn, "main") as backup:
                while not backup.done:
                    backup.step(PAGES_PER_STEP)
                    total = backup.page_count or 1
                    report(f"backup: {label} {100 * (total - backup.remaining) // total}% of {total} pages")
        finally:
            conn.execute("COMMIT")
    finally:
        dest.close()


def files_to_archive(
    data_dir: Path, exclude: Collection[str] = ()
) -> Iterator[tuple[Path, PurePosixPath, int]]:
    """Every regular file of ``data_dir`` that goes into a backup (none under the root entries
    in ``exclude``), with its zip path and size; a file deleted meanwhile is left out."""
    for root, dirs, files in os.walk(data_dir):
        base = Path(root)
        relative_root = PurePosixPath(base.relative_to(data_dir).as_posix())
        if relative_root == PurePosixPath("."):
            dirs[:] = sorted(d for d in dirs if not kept_entry(d) and d not in exclude)
        else:
            dirs.sort()
        for name in sorted(files):
            relative = PurePosixPath(name) if relative_root == PurePosixPath(".") else relative_root / name
            path = base / name
            if relative.parts[0] in exclude or skipped_file(relative):
                continue
            try:
                info = path.lstat()
            except FileNotFoundError:
                continue
            if stat.S_ISREG(info.st_mode):
                yield path, relative, info.st_size


def write_zip(
    data_dir: Path, target: Path, snapshots: dict[str, Path], report: Reporter, exclude: Collection[str] = ()
) -> None:
    """Zip ``data_dir`` into ``target``, but for the root entries in ``exclude``; ``snapshots``
    replace the live databases by name. A file deleted while the zip is written (a record
    deleted meanwhile) is left out, as if it had gone just before."""
    entries = []
    for path, relative, size in files_to_archive(data_dir, exclude):
        snapshot = snapshots.get(str(relative))
        entries.append((path, relative, size) if snapshot is None else (snapshot, relative, snapshot.stat().st_size))
    total = sum(size for _, _, size in entries)
    done = 0
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for index, (source, relative, _) in enumerate(entries, 1):
            try:  # opened before anything of the entry is written: a vanished file leaves no trace
                archive.write(source, str(relative))
            except FileNotFoundError:
                continue
            done += archive.getinfo(str(relative)).file_size
            report(f"backup: zipped {index} of {len(entries)} files, {_mib(done)} of {_mib(total)}")


def _mib(size: int) -> str:
    return f"{size / (1 << 20):.1f} MiB"


def extract(zip_path: Path, target: Path, report: Reporter) -> None:
    """Extract a backup zip into the new folder ``target``; ``BackupError`` when it is not a
    zip, has an unsafe entry, or holds no SQLite ``data.db``."""
    try:
        archive = zipfile.ZipFile(zip_path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise BackupError(f"the backup is not a valid zip file: {exc}") from exc
    with archive:
        members = archive.infolist()
        for index, member in enumerate(members, 1):
            relative = _safe_path(member.filename)
            mode = member.external_attr >> 16
            if member.is_dir():
                (target / relative).mkdir(parents=True, exist_ok=True)
                continue
            if stat.S_IFMT(mode) and not stat.S_ISREG(mode):
                continue  # links, pipes and the like are skipped, as PocketBase does (Go reads
                # permission bits without a type as a regular file: ZipFile.writestr's 0o600)
            path = target / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            try:
                with archive.open(member) as source, open(path, "wb") as out:
                    while chunk := source.read(1 << 20):
                        out.write(chunk)
            except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError) as exc:
                raise BackupError(f"the backup is not a valid zip file: {exc}") from exc
            report(f"restore: extracted {index} of {len(members)} files")
    check_databases(target)


def check_databases(folder: Path) -> None:
    """``BackupError`` unless ``folder/data.db`` is an SQLite database that passes ``PRAGMA
    quick_check`` and holds ``_collections``, and ``auxiliary.db``, when present, passes it
    too: what a server could not open is refused before the old data is touched.

    Opened ``immutable``: read only, no lock, no ``-wal``/``-shm`` file made beside them."""
    import apsw

    for name in DATABASES:
        path = folder / name
        if name != "data.db" and not path.exists():
            continue
        try:
            with open(path, "rb") as db:
                if db.read(len(SQLITE_HEADER)) != SQLITE_HEADER:
                    raise BackupError(f"{name} file is missing or invalid")
            conn = apsw.Connection(f"{path.absolute().as_uri()}?immutable=1",
                                   flags=apsw.SQLITE_OPEN_READONLY | apsw.SQLITE_OPEN_URI)
            try:
                problems = [row[0] for row in conn.execute("PRAGMA quick_check")]
                collections = conn.execute(
                    "SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = '_collections'").fetchall()
            finally:
                conn.close()
        except (OSError, apsw.Error) as exc:
            raise BackupError(f"{name} file is missing or invalid: {exc}") from exc
        if problems != ["ok"]:
            raise BackupError(f"{name} file is invalid: {'; '.join(map(str, problems[:3]))}")
        if name == "data.db" and not collections:
            raise BackupError("data.db file is invalid: it has no _collections table")


def _safe_path(name: str) -> PurePosixPath:
    path = PurePosixPath(name.replace("\\", "/"))
    if path.is_absolute() or ".." in path.parts or not path.parts:
        raise BackupError(f"invalid file path in the backup: {name!r}")
    return path
