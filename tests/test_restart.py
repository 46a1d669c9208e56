"""``app.cluster.restart()`` and ``pbk_prepare_data_dir`` end to end.

A test plugin (``--pluginsDir``) writes down, in ``pb_data/prepared.txt``, the process id of
every ``pbk_prepare_data_dir`` call, and offers ``POST /api/_test/restart`` (which calls
``app.cluster.restart()``), beside ``pbk_sdk.testing.workers``'s ``GET /api/_test/whoami``. Serving alone, the process re-executes
itself (same pid) and prepares the data dir again; with two workers, the supervisor prepares it
once per start while no worker runs, and both workers are new processes afterwards.

A second test plugin says the data dir it prepared is unproven while ``pb_data/broken``
exists, on which no worker can start: the hook is then called again with
``after_failed_start``, puts the data back, and the server starts once more.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from pbk_sdk.testing.workers import WHOAMI, write_whoami_plugin

PLUGIN = """
import os
from pbk_sdk import Route, hookimpl

class Restart:
    def __init__(self, app):
        self.app = app

    async def on_post(self, req, resp):
        self.app.cluster.restart()
        resp.status = 204

@hookimpl
def pbk_prepare_data_dir(data_dir):
    with open(data_dir / "prepared.txt", "a") as out:
        out.write(f"{os.getpid()}\\n")

@hookimpl
def pbk_register_routes(app):
    return [Route("/api/_test/restart", Restart(app))]
"""


UNPROVEN_PLUGIN = """
from pbk_sdk import hookimpl
from pbk_sdk.errors import StartupError

@hookimpl
def pbk_prepare_data_dir(data_dir, after_failed_start):
    broken = data_dir / "broken"
    if after_failed_start and broken.exists():
        broken.rename(data_dir / "put_back")
        return True
    return broken.exists()

@hookimpl
def pbk_startup(app):
    if (app.data_dir / "broken").exists():
        raise StartupError("cannot start on broken data")
"""


def prepared(data_dir: Path) -> list[int]:
    path = data_dir / "prepared.txt"
    return [int(line) for line in path.read_text().split()] if path.exists() else []


def wait_for(predicate: Any, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = predicate()
        except httpx.TransportError:
            value = None
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out after {timeout}s waiting for {what}"
        time.sleep(0.05)


def worker_pids(url: str, expected: int) -> set[int]:
    seen: set[int] = set()
    for _ in range(64):
        with httpx.Client(base_url=url, timeout=10) as client:
            seen.add(client.get(WHOAMI).json()["pid"])
        if len(seen) == expected:
            break
    return seen


@pytest.mark.slow
@pytest.mark.parametrize("workers", [1, 2])
def test_restart_prepares_the_data_dir_again_with_no_worker_running(
    tmp_path: Path, live_server_factory: Any, workers: int
) -> None:
    plugins_dir = tmp_path / "plugins"
    plugins_dir.mkdir()
    (plugins_dir / "restart.py").write_text(PLUGIN)
    write_whoami_plugin(plugins_dir)
    server = live_server_factory(["--workers", str(workers), "--plugins", "records", "--pluginsDir", str(plugins_dir)])
    assert prepared(server.data_dir) == [server.process.pid]  # the supervisor, or the process alone
    before = worker_pids(server.url, workers)
    assert httpx.post(f"{server.url}/api/_test/restart", timeout=10).status_code == 204
    wait_for(lambda: len(prepared(server.data_dir)) == 2, 30, "the data dir prepared again")
    assert prepared(server.data_dir) == [server.process.pid] * 2
    after = wait_for(lambda: worker_pids(server.url, workers), 30, "the server answering again")
    if workers == 1:
        assert after == before == {server.process.pid}  # re-executed in place, as PocketBase
    else:
        assert len(after) == 2 and not after & before
    assert server.process.poll() is None
    assert server.stop() == 0


@pytest.mark.slow
@pytest.mark.parametrize("workers", [1, 2])
def test_a_first_start_that_fails_on_a_prepared_data_dir_is_tried_again_after_putting_it_back(
    tmp_path: Path, live_server_factory: Any, workers: int
) -> None:
    plugins_dir = tmp_path / "plugins"
    plugins_dir.mkdir()
    (plugins_dir / "restart.py").write_text(PLUGIN)
    write_whoami_plugin(plugins_dir)
    (plugins_dir / "unproven.py").write_text(UNPROVEN_PLUGIN)
    server = live_server_factory(["--workers", str(workers), "--plugins", "records", "--pluginsDir", str(plugins_dir)])
    # Every worker started first: one still starting (a busy machine) would find the data broken.
    wait_for(lambda: len(worker_pids(server.url, workers)) == workers, 30, "every worker serving")
    (server.data_dir / "broken").touch()
    assert httpx.post(f"{server.url}/api/_test/restart", timeout=10).status_code == 204
    wait_for(lambda: (server.data_dir / "put_back").exists(), 30, "the data put back")
    wait_for(lambda: worker_pids(server.url, workers), 30, "the server answering again")
    assert "cannot start on broken data" in server.output()
    assert "starting again on the previous data" in server.output()
    assert server.process.poll() is None
    assert server.stop() == 0


async def test_an_app_not_served_cannot_restart(pbk_app: Any) -> None:
    with pytest.raises(RuntimeError, match="cannot restart itself"):
        pbk_app.cluster.restart()
