"""``pbk serve --db postgresql://...``: the kernel picks the storage by the URL, its own tables
and settings live in PostgreSQL, workers each connect after the fork, a dropped connection
fails only the request in flight."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import textwrap
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pbk_sdk
import pytest
from pbk import app as kernel_app
from pbk import build_app
from pbk_postgres import PgConnection
from pbk_sdk.testing import LiveServer

SLOW = '''
from pbk_sdk import PluginInfo, Route, hookimpl

PLUGIN = PluginInfo(name="slow")


class Slow:
    """Holds a read for a while, so a test can drop its connection meanwhile."""

    def __init__(self, app):
        self.app = app

    async def on_get(self, req, resp):
        seconds = float(req.get_param("s") or 0)
        pid = await self.app.db.read(
            lambda conn: conn.execute("SELECT pg_backend_pid() FROM pg_sleep(?)", (seconds,)).get)
        resp.media = {"pid": pid, "engine": self.app.db.engine, "aux": self.app.aux_db.engine}


@hookimpl
def pbk_register_routes(app):
    return [Route("/api/slow", Slow(app))]
'''


def query(url: str, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    conn = PgConnection.connect(url)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def pbk(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pbk", *args], check=False, capture_output=True, text=True,
                          timeout=60)


def test_the_kernel_alone_serves_on_postgresql_with_workers(
    live_server_factory: Callable[..., LiveServer], postgres_url: str
) -> None:
    server = live_server_factory(["--plugins=", "--db", postgres_url, "--workers", "2"])
    for _ in range(10):  # each answered by either worker
        assert httpx.get(f"{server.url}/api/health").json()["code"] == 200
    assert query(postgres_url, "SELECT to_regclass('_migrations') IS NOT NULL") == [(1,)]
    # No data.db: the data dir holds files only.
    assert not (server.data_dir / "data.db").exists()


def test_pbk_db_names_the_database_too(
    live_server_factory: Callable[..., LiveServer], postgres_url: str, plugins_dir: Path
) -> None:
    (plugins_dir / "slow.py").write_text(textwrap.dedent(SLOW))
    server = live_server_factory(["--plugins=slow", "--pluginsDir", str(plugins_dir), "--workers", "1"],
                                 env={"PBK_DB": postgres_url})
    answer = httpx.get(f"{server.url}/api/slow").json()
    assert (answer["engine"], answer["aux"]) == ("postgresql", "postgresql")


@pytest.mark.parametrize(("url", "message"), [
    ("mysql://root@127.0.0.1/x", "Error: no installed plugin opens mysql:// databases\n"),
    ("sqlite:///elsewhere.db", "Error: --db sqlite: takes no path"),
    ("postgresql://root@127.0.0.1:1/none", "Error: cannot open the PostgreSQL database postgresql://root@127.0.0.1:1/none: "),
])
def test_a_database_pbk_cannot_open_is_one_error_line(tmp_path: Path, url: str, message: str) -> None:
    result = pbk("serve", "--dir", str(tmp_path / "pb_data"), "--http", "127.0.0.1:0", "--plugins=",
                 "--workers", "1", "--db", url)
    assert result.returncode == 1
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_a_request_whose_connection_is_dropped_fails_in_the_envelope_and_the_next_one_works(
    live_server_factory: Callable[..., LiveServer], postgres_url: str, plugins_dir: Path
) -> None:
    (plugins_dir / "slow.py").write_text(textwrap.dedent(SLOW))
    server = live_server_factory(["--plugins=slow", "--pluginsDir", str(plugins_dir), "--workers", "1",
                                  "--db", postgres_url])
    first = httpx.get(f"{server.url}/api/slow").json()["pid"]

    def drop_readers() -> None:
        time.sleep(0.5)
        query(postgres_url, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                            "WHERE datname = current_database() AND application_name LIKE 'pbk-%'")

    dropper = threading.Thread(target=drop_readers)
    dropper.start()
    response = httpx.get(f"{server.url}/api/slow", params={"s": "5"}, timeout=10)
    dropper.join()
    assert response.status_code == 500
    assert response.json() == {"status": 500, "message": "Something went wrong while processing your request.",
                               "data": {}}
    started = time.monotonic()
    for _ in range(5):  # every reader connection was dropped: each is made again
        assert httpx.get(f"{server.url}/api/slow").status_code == 200
    assert time.monotonic() - started < 5
    assert httpx.get(f"{server.url}/api/slow").json()["pid"] != first


async def test_the_kernel_s_settings_persist_in_postgresql_also_encrypted(
    postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config: dict[str, Any] = {"data_dir": tmp_path / "pb_data", "plugins": (), "db": postgres_url}
    app = build_app(**config)
    await app.start()
    try:
        assert app.settings.as_dict() == {}
        await app.settings.update({"meta": {"appName": "on postgres"}})
    finally:
        await app.stop()
    assert query(postgres_url, 'SELECT "value"::text FROM "_params" WHERE "id" = ?', ("settings",)) == [
        ('{"meta":{"appName":"on postgres"}}',)]

    monkeypatch.setenv("PBK_TEST_KEY", "k" * 32)
    app = build_app(**config, encryption_env="PBK_TEST_KEY")
    await app.start()  # re-saves them encrypted, as on SQLite
    try:
        assert app.settings.get("meta.appName") == "on postgres"
    finally:
        await app.stop()
    [(stored,)] = query(postgres_url, 'SELECT "value"::text FROM "_params" WHERE "id" = ?', ("settings",))
    assert stored.startswith('"') and "on postgres" not in stored

    app = build_app(**config, encryption_env="PBK_TEST_KEY")
    await app.start()
    try:
        assert app.settings.get("meta.appName") == "on postgres"
    finally:
        await app.stop()


def test_without_pbk_postgres_installed_the_error_says_what_to_install(tmp_path: Path) -> None:
    """A real environment without the distribution: this one's packages minus pbk-postgres
    (``python -S`` reads them from a folder of links, the editable sources from PYTHONPATH)."""
    site_packages = Path(sysconfig.get_paths()["purelib"])
    packages = tmp_path / "site-packages"
    packages.mkdir()
    for entry in site_packages.iterdir():
        if not entry.name.startswith(("pbk_postgres", "_editable_impl_pbk_postgres")):
            (packages / entry.name).symlink_to(entry)
    sources = [Path(kernel_app.__file__).parents[1], Path(pbk_sdk.__file__).parents[1]]
    result = subprocess.run(
        [sys.executable, "-S", "-m", "pbk", "--dir", str(tmp_path / "pb_data"), "--db", "postgres://root@127.0.0.1/x",
         "serve", "--plugins=", "--workers", "1"],
        check=False, capture_output=True, text=True, timeout=60,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(map(str, [*sources, packages]))},
    )
    assert result.returncode == 1
    assert result.stderr == "Error: no installed plugin opens postgresql:// databases: pip install pbk-postgres\n"
