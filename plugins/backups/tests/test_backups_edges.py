"""Edges of making and restoring backups: files deleted while they are zipped, uploads in
progress, zip entries with permission bits only, backup names on the command line, and the
data dir under a live server (``pbk backups restore`` refused, a second ``pbk serve`` on the
same address stopping before it touches anything).
"""

from __future__ import annotations

import io
import sqlite3
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
from backups_testing import PLUGINS
from pbk_backups.archive import Reporter, extract, write_zip
from pbk_sdk.testing.postgres import engine_under_test


def test_files_deleted_while_zipping_and_uploads_in_progress_are_left_out(tmp_path: Path) -> None:
    data_dir = tmp_path / "pb_data"
    (data_dir / "storage" / "c1").mkdir(parents=True)
    for name in ("a.txt", "b.txt", "c.txt"):
        (data_dir / "storage" / "c1" / name).write_text(name)
    (data_dir / "storage" / "c1" / ".d.txt.0123456789abcdef.tmp").write_text("half an upload")

    def delete_the_next_file(message: str) -> None:  # the first progress line comes after a.txt
        (data_dir / "storage" / "c1" / "b.txt").unlink(missing_ok=True)

    target = tmp_path / "backup.zip"
    write_zip(data_dir, target, {}, Reporter(delete_the_next_file))
    with zipfile.ZipFile(target) as archive:
        assert archive.namelist() == ["storage/c1/a.txt", "storage/c1/c.txt"]
        assert archive.testzip() is None


def pocketbase_db(path: Path) -> bytes:
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE _collections (id TEXT PRIMARY KEY)")
    db.commit()
    db.close()
    return path.read_bytes()


def test_entries_with_permission_bits_only_are_regular_files(tmp_path: Path) -> None:
    data = io.BytesIO()
    with zipfile.ZipFile(data, "w") as archive:  # writestr gives entries mode 0o600, no file type
        archive.writestr("data.db", pocketbase_db(tmp_path / "x.db"))
        archive.writestr("storage/c1/r1/a.txt", "kept")
    (tmp_path / "b.zip").write_bytes(data.getvalue())
    extract(tmp_path / "b.zip", tmp_path / "out", Reporter(None))
    assert (tmp_path / "out" / "storage" / "c1" / "r1" / "a.txt").read_text() == "kept"


def test_the_cli_checks_a_backup_name_before_making_it(pbk_cli: Any, pbk_config: dict[str, Any]) -> None:
    refused = pbk_cli("backups", "create", "Not A Name.zip")
    assert refused.exit_code == 1 and "Must be in a valid format" in refused.output
    assert "started" not in refused.output
    assert not (pbk_config["data_dir"] / "backups").exists()


def pbk(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pbk", "--dir", str(data_dir), "--plugins", ",".join(PLUGINS), *args],
                          capture_output=True, text=True, timeout=120, check=False)


@pytest.mark.skipif(engine_under_test() == "postgresql", reason="no backups with the data in PostgreSQL (test_backups_postgres)")
def test_under_a_live_server_restore_is_refused_and_a_second_server_touches_nothing(
    tmp_path: Path, live_server_factory: Any
) -> None:
    server = live_server_factory(["--workers", "1", "--plugins", ",".join(PLUGINS)])
    made = pbk(server.data_dir, "backups", "create", "cli.zip")  # a consistent snapshot: fine under a server
    assert made.returncode == 0, made.stderr
    refused = pbk(server.data_dir, "backups", "restore", "cli.zip")
    assert refused.returncode == 1
    assert "a server is serving this data dir" in refused.stderr
    assert not (server.data_dir / ".pbk_restore").exists()

    in_use = server.data_dir / ".pb_temp_to_delete" / "pb_backup_x" / "data.db"  # as a running backup's
    in_use.parent.mkdir(parents=True)
    in_use.write_text("in use")
    second = pbk(server.data_dir, "serve", "--http", server.url.removeprefix("http://"), "--workers", "1")
    assert second.returncode == 1 and "address is already in use" in second.stderr
    assert in_use.read_text() == "in use"
    assert server.process.poll() is None
