"""``pbk db copy``: a data set moved between a SQLite pb_data and PostgreSQL, both ways, with
the real PocketBase making the first pb_data and opening the last one, a copy killed midway
resumed, the counts checked and the refusals."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from pbk_postgres import PgConnection
from pbk_sdk.testing import LiveServer
from pbk_sdk.testing.pocketbase import pocketbase_superuser, start_pocketbase, superuser_token
from pbk_sdk.testing.postgres import postgres_database
from pbk_sdk.testing.servers import start_live_server

EMAIL, PASSWORD = "admin@example.com", "password123"
POSTS = 120  # with --batch-size 7: enough batches to kill the copy midway


def pbk(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pbk", *args], check=False, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, env={**os.environ, **(env or {})}, timeout=120)


def api(server: LiveServer, token: str, path: str) -> Any:
    response = httpx.get(f"{server.url}{path}", headers={"Authorization": token}, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


def fill(server: LiveServer, token: str) -> None:
    """Collections of every kind of field, a relation, an index, a view, records, a setting."""
    headers = {"Authorization": token}

    def post(path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = httpx.post(f"{server.url}{path}", json=body, headers=headers, timeout=30)
        assert response.status_code == 200, response.text
        return response.json()

    tags = post("/api/collections", {"name": "tags", "type": "base", "listRule": "", "viewRule": "",
                                     "fields": [{"name": "label", "type": "text"}]})
    post("/api/collections", {
        "name": "posts", "type": "base", "listRule": "", "viewRule": "",
        "fields": [{"name": "title", "type": "text"}, {"name": "views", "type": "number"},
                   {"name": "draft", "type": "bool"}, {"name": "meta", "type": "json"},
                   {"name": "kind", "type": "select", "values": ["a", "b"], "maxSelect": 2},
                   {"name": "tags", "type": "relation", "collectionId": tags["id"], "maxSelect": 5},
                   {"name": "created", "type": "autodate", "onCreate": True}],
        "indexes": ["CREATE INDEX `idx_posts_title` ON `posts` (`title`)"]})
    post("/api/collections", {"name": "counts", "type": "view", "listRule": "", "viewRule": "",
                              "viewQuery": "SELECT id, title, views FROM posts WHERE draft = false"})
    tag_ids = [post("/api/collections/tags/records", {"label": f"tag {i}"})["id"] for i in range(3)]
    for i in range(POSTS):
        post("/api/collections/posts/records", {
            "title": f"post {i:03d}", "views": i * 1.5 if i % 2 else i, "draft": i % 3 == 0,
            "meta": {"n": i, "z": [1, "two"], "a": None}, "kind": ["a", "b"][: i % 3],
            "tags": tag_ids[: i % 4]})
    post("/api/collections/users/records", {"email": "u@example.com", "password": PASSWORD,
                                             "passwordConfirm": PASSWORD, "name": "U"})
    response = httpx.patch(f"{server.url}/api/settings", json={"meta": {"appName": "Moved"}},
                           headers=headers, timeout=30)
    assert response.status_code == 200, response.text


PATHS = ("/api/collections/posts/records?perPage=500&sort=-views,title&expand=tags",
         "/api/collections/posts/records?filter=draft%3Dtrue%26%26views%3E10&perPage=50",
         "/api/collections/counts/records?perPage=500&sort=title",
         "/api/collections/tags/records", "/api/collections/users/records",
         "/api/collections/_superusers/records?fields=email")


def answers(server: LiveServer) -> dict[str, Any]:
    token = superuser_token(server.url, EMAIL, PASSWORD)
    seen = {path: api(server, token, path) for path in PATHS}
    seen["settings"] = api(server, token, "/api/settings")["meta"]["appName"]
    collections = api(server, token, "/api/collections?perPage=100&sort=name")["items"]
    seen["collections"] = [{k: v for k, v in c.items() if k not in ("created", "updated")}
                           for c in collections]
    return seen


def table_counts(url: str) -> dict[str, int]:
    conn = PgConnection.connect(url)
    try:
        tables = [r[0] for r in conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' "
            "AND table_type = 'BASE TABLE'").fetchall()]
        return {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}
    finally:
        conn.close()


@pytest.fixture(scope="module")
def pocketbase_data(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """A pb_data PocketBase made and filled, and what PocketBase's API answered on it."""
    data_dir = tmp_path_factory.mktemp("real") / "pb_data"
    pocketbase_superuser(data_dir, EMAIL, PASSWORD)
    server = start_pocketbase(data_dir)
    try:
        fill(server, superuser_token(server.url, EMAIL, PASSWORD))
        seen = answers(server)
    finally:
        server.stop()
    return data_dir, seen


def test_round_trip_pocketbase_to_postgresql_to_pocketbase(pocketbase_data: tuple[Path, dict[str, Any]],
                                                           tmp_path: Path) -> None:
    source, seen = pocketbase_data
    before = {p.name: p.read_bytes() for p in source.iterdir() if p.is_file()}
    back = tmp_path / "back"
    with sqlite3.connect(f"file:{source / 'auxiliary.db'}?immutable=1", uri=True) as old:
        source_logs = {row[0] for row in old.execute("SELECT id FROM _logs")}
    with postgres_database() as url:
        done = pbk("db", "copy", str(source), url)
        assert done.returncode == 0, done.stderr
        assert "the counts agree" in done.stdout and "Uploaded files were not copied" in done.stdout
        assert done.stderr == ""  # no progress bar without a terminal
        counts = table_counts(url)
        assert counts["posts"] == POSTS and counts["_superusers"] == 1 and "_pbk_copy" not in counts
        assert counts["_logs"] == len(source_logs) > 0
        served = start_live_server(tmp_path / "served", ["--db", url])
        try:
            assert answers(served) == seen  # pbk on PostgreSQL answers as PocketBase did
        finally:
            served.stop()
        done = pbk("db", "copy", url, str(back), "--quiet")
        assert done.returncode == 0, done.stderr
    real = start_pocketbase(back)
    try:
        assert answers(real) == seen  # and PocketBase opens the copy back
    finally:
        real.stop()
    assert {p.name: p.read_bytes() for p in source.iterdir() if p.is_file()} == before  # source untouched
    with sqlite3.connect(back / "data.db") as db:
        assert db.execute("SELECT count(*) FROM sqlite_master WHERE name = '_pbk_copy'").fetchone() == (0,)
    with sqlite3.connect(back / "auxiliary.db") as db:  # the servers since logged more
        assert source_logs <= {row[0] for row in db.execute("SELECT id FROM _logs")}


def kill_midway(command: list[str], posts_done: Any) -> int:
    """Run ``command`` and SIGKILL it in the middle of copying ``posts``: ``posts_done()`` holds
    the destination's write lock while it reads the progress (so the copy cannot run past it)
    and answers the rows done (None before the copy got there); the kill comes while the copy
    waits for that lock inside a batch's transaction."""
    process = subprocess.Popen([sys.executable, "-m", "pbk", *command, "--batch-size", "1"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and process.poll() is None:
            done = posts_done(lambda: process.send_signal(signal.SIGKILL))
            if done is not None:
                process.wait()
                return done
            time.sleep(0.005)
        raise AssertionError(f"the copy was not caught midway (exit code {process.poll()})")
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()


def pg_posts_done(url: str) -> Any:
    def check(kill: Any) -> int | None:
        conn = PgConnection.connect(url)
        try:
            with conn:
                if conn.execute("SELECT to_regclass('_pbk_copy')").fetchone()[0] is None:
                    return None
                conn.execute("LOCK TABLE _pbk_copy IN EXCLUSIVE MODE")
                row = conn.execute("SELECT done FROM _pbk_copy WHERE tbl = 'posts'").fetchone()
                if row is None or not 3 <= row[0] < POSTS:
                    return None
                kill()
                return int(row[0])
        finally:
            conn.close()
    return check


def test_killed_copy_resumes_without_losing_or_doubling_rows(pocketbase_data: tuple[Path, dict[str, Any]]) -> None:
    source, _ = pocketbase_data
    with postgres_database() as url:
        copied = kill_midway(["db", "copy", str(source), url], pg_posts_done(url))
        assert table_counts(url)["posts"] == copied  # the batch under way when killed left nothing
        done = pbk("db", "copy", str(source), url, "--batch-size", "7")
        assert done.returncode == 0, done.stderr
        assert "Resuming" in done.stdout
        counts = table_counts(url)
        assert counts["posts"] == POSTS and "_pbk_copy" not in counts
        conn = PgConnection.connect(url)
        try:
            assert conn.execute("SELECT count(DISTINCT id), count(DISTINCT rowid) FROM posts").fetchone() == (
                POSTS, POSTS)
        finally:
            conn.close()


def test_refusals_and_errors(pocketbase_data: tuple[Path, dict[str, Any]], tmp_path: Path) -> None:
    source, _ = pocketbase_data
    with postgres_database() as url:
        assert pbk("db", "copy", str(source), url, "--no-logs").returncode == 0
        again = pbk("db", "copy", str(source), url)
        assert again.returncode == 1
        assert "already holds a data set" in again.stderr and "--overwrite" in again.stderr
        replaced = pbk("db", "copy", str(source), url, "--overwrite")
        assert replaced.returncode == 0, replaced.stderr
        assert table_counts(url)["_logs"] > 0  # logs come along by default
    missing = pbk("db", "copy", str(tmp_path / "nowhere"), str(tmp_path / "dest"))
    assert missing.returncode == 1 and missing.stderr.strip().splitlines() == [
        f"Error: no such data dir: {tmp_path / 'nowhere'}"]
    bad = pbk("db", "copy", str(source), "postgresql://root@127.0.0.1:5432/")
    assert bad.returncode == 1 and "bad PostgreSQL URL" in bad.stderr and len(bad.stderr.splitlines()) == 1
    unreachable = pbk("db", "copy", "postgresql://root@127.0.0.1:1/nothing", str(tmp_path / "dest"))
    assert unreachable.returncode == 1 and "cannot connect to postgresql://root@127.0.0.1:1/nothing" in (
        unreachable.stderr) and len(unreachable.stderr.splitlines()) == 1
    served_dir = tmp_path / "served"
    server = start_live_server(served_dir)
    try:
        busy = pbk("db", "copy", str(served_dir), str(tmp_path / "dest"))
        assert busy.returncode == 1 and f"a pbk server is serving {served_dir}" in busy.stderr
    finally:
        server.stop()


def test_counts_mismatch_names_the_table(pocketbase_data: tuple[Path, dict[str, Any]], tmp_path: Path) -> None:
    """A destination that lost rows while a copy was stopped fails the count check by name; an
    unfinished copy is not taken over by another source."""
    source, _ = pocketbase_data
    other = tmp_path / "other"
    assert pbk("superuser", "upsert", EMAIL, PASSWORD, "--dir", str(other)).returncode == 0
    with postgres_database() as url:
        kill_midway(["db", "copy", str(source), url], pg_posts_done(url))
        refused = pbk("db", "copy", str(other), url)
        assert refused.returncode == 1
        assert refused.stderr.strip() == (f"Error: {url} holds an unfinished copy of another data set "
                                          f"({source.resolve()}): pass --overwrite to replace it")
        conn = PgConnection.connect(url)
        try:
            conn.execute("DELETE FROM posts WHERE rowid IN (SELECT rowid FROM posts ORDER BY rowid LIMIT 2)")
        finally:
            conn.close()
        done = pbk("db", "copy", str(source), url)
        assert done.returncode == 1
        assert done.stderr.strip() == (
            f"Error: the counts differ: posts ({POSTS} in the source, {POSTS - 2} in the destination)")


def test_encrypted_settings_stay_encrypted(tmp_path: Path) -> None:
    key = {"PBK_TEST_MOVE_KEY": "0123456789abcdef0123456789abcdef"}
    flags = ["--encryptionEnv", "PBK_TEST_MOVE_KEY"]
    source, back = tmp_path / "pb_data", tmp_path / "back"
    pocketbase_superuser(source, EMAIL, PASSWORD, flags, env=key)
    real = start_pocketbase(source, flags, env=key)
    try:
        token = superuser_token(real.url, EMAIL, PASSWORD)
        response = httpx.patch(f"{real.url}/api/settings", json={"meta": {"appName": "Secret"}},
                               headers={"Authorization": token}, timeout=30)
        assert response.status_code == 200, response.text
    finally:
        real.stop()
    with postgres_database() as url:
        assert pbk("db", "copy", str(source), url).returncode == 0
        conn = PgConnection.connect(url)
        try:
            stored = conn.execute("SELECT value FROM _params WHERE id = 'settings'").fetchone()[0]
        finally:
            conn.close()
        assert stored.startswith('"') and "Secret" not in stored  # still encrypted, as a JSON string
        served = start_live_server(tmp_path / "served", ["--db", url, *flags], env=key)
        try:
            token = superuser_token(served.url, EMAIL, PASSWORD)
            assert api(served, token, "/api/settings")["meta"]["appName"] == "Secret"
        finally:
            served.stop()
        assert pbk("db", "copy", url, str(back)).returncode == 0
    real = start_pocketbase(back, flags, env=key)
    try:
        token = superuser_token(real.url, EMAIL, PASSWORD)
        assert api(real, token, "/api/settings")["meta"]["appName"] == "Secret"
    finally:
        real.stop()
