"""Restores a live ``pbk serve`` (one process, two workers) cannot use: a ``data.db`` with a
valid header SQLite cannot open is refused before anything is swapped (the same processes go
on serving the old data); a sound database the server cannot start on (its migrations fail)
is swapped in, fails the first start, and the old data is put back and served.
"""

from __future__ import annotations

import io
import sqlite3
import zipfile
from pathlib import Path
from typing import Any

import pytest
from backups_testing import NOTES, PLUGINS, add_notes, sign_in, titles, wait_for
from pbk_sdk.testing.postgres import engine_under_test
from pbk_sdk.testing.programs import pbk_command_superuser

pytestmark = pytest.mark.skipif(engine_under_test() == "postgresql", reason="no backups with the data in PostgreSQL (test_backups_postgres)")

EMAIL, PASSWORD = "root@example.com", "su-password-123"


def zipped(data_db: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("data.db", data_db)
    return out.getvalue()


def unstartable_db(tmp_path: Path) -> bytes:
    """A sound SQLite file whose ``_collections`` is not PocketBase's: migrations fail on it."""
    path = tmp_path / "unstartable.db"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE _collections (x)")
    db.commit()
    db.close()
    return path.read_bytes()


@pytest.mark.slow
@pytest.mark.parametrize("workers", [1, 2])
def test_restores_the_server_cannot_use_leave_the_old_data_serving(
    tmp_path: Path, live_server_factory: Any, workers: int
) -> None:
    data_dir = tmp_path / "pb_data"
    pbk_command_superuser(data_dir, PLUGINS, EMAIL, PASSWORD)
    server = live_server_factory(["--workers", str(workers), "--plugins", ",".join(PLUGINS)], data_dir=data_dir)
    client = sign_in(server.url, EMAIL, PASSWORD)
    assert client.post("/api/collections", json=NOTES).status_code == 200
    add_notes(client, "old")
    corrupt = zipped(b"SQLite format 3\x00" + b"\x01" * 5000)
    unstartable = zipped(unstartable_db(tmp_path))
    for name, content in (("corrupt.zip", corrupt), ("unstartable.zip", unstartable)):
        assert client.post("/api/backups/upload", files={"file": (name, content)}).status_code == 204

    assert client.post("/api/backups/corrupt.zip/restore").status_code == 204
    wait_for(lambda: "Failed to restore backup corrupt.zip: data.db file is missing or invalid" in server.output(),
             30, "the refusal")
    assert "replaced pb_data" not in server.output()
    assert titles(server.url) == ["old"]

    assert client.post("/api/backups/unstartable.zip/restore").status_code == 204
    wait_for(lambda: "the previous data is back" in server.output(), 60, "the old data put back")
    assert wait_for(lambda: titles(server.url), 60, "the server answering again") == ["old"]
    assert server.process.poll() is None
    client = sign_in(server.url, EMAIL, PASSWORD)
    assert client.get("/api/health").json()["data"]["canBackup"] is True
    leftovers = {".pbk_restore", ".pbk_restore_old", ".pbk_restore_trial", ".pbk_restore_rolling_back"}
    assert not leftovers & {p.name for p in data_dir.iterdir()}
