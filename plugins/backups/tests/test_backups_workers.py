"""Backups on a live ``pbk serve --workers 2``: a backup taken while clients write is one
consistent moment; a restore ends the realtime streams, restarts both workers and they serve
the restored data; a restore that fails leaves the old data serving, nothing restarted.

Which worker answers is told by a test plugin (``GET /api/_test/whoami``, its process id); each
check opens new connections until both workers have answered.
"""

from __future__ import annotations

import sqlite3
import threading
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from backups_testing import NOTES, PLUGINS, add_notes, sign_in, titles, wait_for
from pbk_sdk.testing.postgres import engine_under_test
from pbk_sdk.testing.programs import pbk_command_superuser
from pbk_sdk.testing.workers import WHOAMI, write_whoami_plugin

pytestmark = pytest.mark.skipif(engine_under_test() == "postgresql", reason="no backups with the data in PostgreSQL (test_backups_postgres)")

EMAIL, PASSWORD = "root@example.com", "su-password-123"
#: New connections tried before concluding that a worker does not answer.
ATTEMPTS = 64


def per_worker(url: str, ask: Callable[[httpx.Client], Any]) -> dict[int, Any]:
    """``ask(client)`` answered by each worker: new connections until two pids answered."""
    seen: dict[int, Any] = {}
    for _ in range(ATTEMPTS):
        with httpx.Client(base_url=url, timeout=10) as client:
            pid = client.get(WHOAMI).json()["pid"]
            seen[pid] = ask(client)
        if len(seen) == 2:
            return seen
    raise AssertionError(f"only workers {sorted(seen)} answered")


def note_titles(client: httpx.Client) -> list[str]:
    answer = client.get("/api/collections/notes/records", params={"perPage": 500, "sort": "title"})
    return [item["title"] for item in answer.json()["items"]]


class Stream:
    """``GET /api/realtime`` read by a thread; ``ended`` is set when the server ends it."""

    def __init__(self, url: str) -> None:
        self.connected = threading.Event()
        self.ended = threading.Event()
        self._thread = threading.Thread(target=self._read, args=(url,), daemon=True)
        self._thread.start()
        assert self.connected.wait(15), "no PB_CONNECT"

    def _read(self, url: str) -> None:
        try:
            with httpx.Client(timeout=httpx.Timeout(15.0, read=None)) as client, \
                    client.stream("GET", f"{url}/api/realtime") as response:
                for line in response.iter_lines():
                    if line == "event:PB_CONNECT":
                        self.connected.set()
        except httpx.HTTPError:
            pass
        finally:
            self.ended.set()


def start(tmp_path: Path, live_server_factory: Any) -> tuple[Any, httpx.Client]:
    data_dir = tmp_path / "pb_data"
    plugins_dir = tmp_path / "plugins"
    write_whoami_plugin(plugins_dir)
    pbk_command_superuser(data_dir, PLUGINS, EMAIL, PASSWORD)
    server = live_server_factory(["--workers", "2", "--plugins", ",".join(PLUGINS), "--pluginsDir", str(plugins_dir)],
                                 data_dir=data_dir)
    client = sign_in(server.url, EMAIL, PASSWORD)
    assert client.post("/api/collections", json=NOTES).status_code == 200
    return server, client


def snapshot_titles(zip_path: Path, tmp_path: Path) -> list[str]:
    """The notes in a backup's ``data.db``, after SQLite found the file sound."""
    with zipfile.ZipFile(zip_path) as archive:
        names = archive.namelist()
        assert not [n for n in names if n.endswith(("-wal", "-shm")) or n.startswith((".pbk_", "backups/"))], names
        archive.extract("data.db", tmp_path / "snapshot")
    db = sqlite3.connect(tmp_path / "snapshot" / "data.db")
    try:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        return sorted(row[0] for row in db.execute("SELECT title FROM notes"))
    finally:
        db.close()


@pytest.mark.slow
def test_backup_while_writing_then_restore_under_a_realtime_client(tmp_path: Path, live_server_factory: Any) -> None:
    server, client = start(tmp_path, live_server_factory)
    written: list[int] = []
    stop = threading.Event()

    def write() -> None:
        with httpx.Client(base_url=server.url, timeout=30, headers=client.headers) as writer:
            while not stop.is_set():
                add_notes(writer, f"{len(written):06d}")
                written.append(len(written))

    writer = threading.Thread(target=write)
    writer.start()
    try:
        wait_for(lambda: len(written) >= 20, 30, "writes under way")
        assert client.post("/api/backups", json={"name": "during.zip"}).status_code == 204
        at_backup = len(written)
        wait_for(lambda: len(written) >= at_backup + 20, 30, "writes after the backup")
    finally:
        stop.set()
        writer.join()
    # Writes came one after another: a consistent snapshot holds the first n of them, no gap.
    saved = snapshot_titles(server.data_dir / "backups" / "during.zip", tmp_path)
    assert saved == [f"{i:06d}" for i in range(len(saved))]
    assert 20 <= len(saved) <= at_backup

    before = per_worker(server.url, note_titles)
    assert all(len(seen) == len(written) for seen in before.values())
    stream = Stream(server.url)
    assert client.post("/api/backups/during.zip/restore").status_code == 204
    assert stream.ended.wait(30), "the realtime stream outlived the restore"
    wait_for(lambda: titles(server.url) == saved, 60, "the restored notes")
    after = per_worker(server.url, note_titles)
    assert not set(after) & set(before), "a worker was not restarted"
    assert list(after.values()) == [saved, saved]
    assert server.process.poll() is None


@pytest.mark.slow
def test_a_failed_restore_leaves_the_old_data_serving(tmp_path: Path, live_server_factory: Any) -> None:
    server, client = start(tmp_path, live_server_factory)
    add_notes(client, "kept")
    broken = b"PK\x03\x04" + b"\x00" * 64  # a zip's signature, then nothing a zip reader accepts
    assert client.post("/api/backups/upload", files={"file": ("broken.zip", broken)}).status_code == 204
    before = per_worker(server.url, note_titles)
    assert client.post("/api/backups/broken.zip/restore").status_code == 204
    wait_for(lambda: "Failed to restore backup broken.zip" in server.output(), 30, "the restore's failure")
    after = per_worker(server.url, note_titles)
    assert after == before == {pid: ["kept"] for pid in before}  # the same processes, the same data
    health = client.get("/api/health").json()
    assert health["data"]["canBackup"] is True
    assert not (server.data_dir / ".pbk_restore").exists()
