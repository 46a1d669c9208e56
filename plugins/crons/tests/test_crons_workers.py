"""A live ``pbk serve --workers 2``: a job due every tick runs once per tick, never on both
workers, and keeps doing so after the worker running it is killed.

``PBK_CRON_TICK=2`` makes a "minute" two seconds. The job (a plugin written into
``--pluginsDir``) appends its process id and the tick it was started for to a file. It reads the
tick from ``pb_data/.pbk_cron_tick``, which the leader writes before it starts the tick's jobs and
rewrites only a tick later, after the job's first step ran: a job that starts late under load
still records its own tick.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from typing import Any

import pytest

PLUGINS = ["records", "auth", "crons"]
TICK = 2.0
JOB_PLUGIN = """
import os
from pbk_sdk import hookimpl

@hookimpl
def pbk_register_cron_jobs(app):
    async def write_down():
        tick = (app.data_dir / ".pbk_cron_tick").read_text()
        with open(os.environ["CRON_TEST_LOG"], "a") as log:
            log.write(f"{os.getpid()} {tick}\\n")
    return {"write-down": ("* * * * *", write_down)}
"""


def runs(log: Path) -> list[tuple[int, int]]:
    """(pid, tick) of every run so far."""
    if not log.exists():
        return []
    lines = [line.split() for line in log.read_text().splitlines()]
    return [(int(pid), int(tick)) for pid, tick in lines]


def wait_for_runs(log: Path, count: int, timeout: float) -> list[tuple[int, int]]:
    deadline = time.monotonic() + timeout
    while len(found := runs(log)) < count:
        assert time.monotonic() < deadline, f"only {found} after {timeout}s"
        time.sleep(0.05)
    return found


@pytest.mark.slow
def test_a_job_runs_once_per_tick_across_two_workers_and_after_its_worker_dies(
    tmp_path: Path, live_server_factory: Any
) -> None:
    plugins_dir = tmp_path / "plugins"
    plugins_dir.mkdir()
    (plugins_dir / "write_down.py").write_text(JOB_PLUGIN)
    log = tmp_path / "runs.txt"
    server = live_server_factory(
        ["--workers", "2", "--plugins", ",".join(PLUGINS), "--pluginsDir", str(plugins_dir)],
        env={"PBK_CRON_TICK": str(TICK), "CRON_TEST_LOG": str(log)},
    )
    before = wait_for_runs(log, 3, timeout=30)
    leader = before[-1][0]
    assert {pid for pid, _ in before} == {leader}
    assert leader != server.process.pid  # a worker, not the supervisor
    # Kill it between two ticks (its job started, the next tick far), as a crash would come.
    while not 0.15 < (time.time() / TICK) % 1 < 0.5:
        time.sleep(0.02)
    os.kill(leader, signal.SIGKILL)
    after = wait_for_runs(log, len(runs(log)) + 3, timeout=30)
    ticks = [tick for _, tick in after]
    assert ticks == list(range(ticks[0], ticks[0] + len(ticks))), f"a tick run twice or missed: {after}"
    assert after[-1][0] != leader
    assert "exited" in server.output()  # the supervisor replaced the killed worker
