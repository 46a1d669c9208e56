"""The scheduler in process: the list's order, a tick run once by the one leader among apps on
one data dir, failing and slow jobs, and what the registration hook refuses."""

from __future__ import annotations

import asyncio
import logging
import math
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from pbk.app import build_app
from pbk_crons.jobs import Jobs
from pbk_crons.plugin import SCHEDULER
from pbk_sdk.cron import CronError
from pbk_sdk.errors import PluginError
from pbk_sdk.interfaces import CRON_JOBS

PLUGINS = ["records", "auth", "crons"]

async def nothing() -> None:
    return None


def test_own_jobs_come_sorted_before_the_system_ones_in_the_order_added() -> None:
    jobs = Jobs()
    for job_id in ("__pbB__", "zeta", "__pbA__", "Alpha", "alpha"):
        jobs.add(job_id, "@hourly", nothing)
    jobs.add("__pbB__", "0 0 * * *", nothing)  # re-added: replaced, and now last
    assert jobs.jobs() == [("Alpha", "0 * * * *"), ("alpha", "0 * * * *"), ("zeta", "0 * * * *"),
                           ("__pbA__", "0 * * * *"), ("__pbB__", "0 0 * * *")]
    jobs.remove("zeta")
    jobs.remove("missing")
    assert [job_id for job_id, _ in jobs.jobs()] == ["Alpha", "alpha", "__pbA__", "__pbB__"]
    with pytest.raises(CronError):
        jobs.add("bad", "61 * * * *", nothing)


async def test_a_failing_job_logs_one_line_and_the_others_still_run(
    pbk_app: Any, caplog: pytest.LogCaptureFixture
) -> None:
    ran: list[str] = []

    async def fails() -> None:
        raise RuntimeError("disk on fire")

    async def works() -> None:
        ran.append("works")

    jobs = pbk_app.state[CRON_JOBS]
    jobs.add("a-fails", "* * * * *", fails)
    jobs.add("b-works", "* * * * *", works)
    jobs.add("c-sync", "* * * * *", lambda: None)
    scheduler = pbk_app.state[SCHEDULER]
    with caplog.at_level(logging.ERROR, logger="pbk_crons"):
        for runs in (1, 2):
            assert await scheduler.run_tick(current_tick(scheduler) + runs)
            await until(lambda runs=runs: len(ran) == runs)
    failures = [r.getMessage() for r in caplog.records]
    assert failures == ["cron job a-fails failed: RuntimeError: disk on fire",
                        "cron job c-sync failed: TypeError: the job is not an async function"] * 2


def current_tick(scheduler: Any) -> int:
    return math.floor(time.time() / scheduler.interval)


async def until(condition: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.01)


async def test_one_app_of_two_on_a_data_dir_runs_each_tick_and_the_other_takes_over(
    pbk_config: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PBK_CRON_TICK", "1")  # a follower gives up on a tick after 0.1 s
    apps = [build_app(**pbk_config), build_app(**pbk_config)]
    for app in apps:
        await app.start()
    runs: list[str] = []
    try:
        for name, app in zip("ab", apps, strict=True):
            async def job(name: str = name) -> None:
                runs.append(name)
            app.state[CRON_JOBS].add("count", "* * * * *", job)
        first, second = (app.state[SCHEDULER] for app in apps)
        tick = current_tick(first) + 1
        assert await first.run_tick(tick)
        assert not await second.run_tick(tick)  # another leader: gives up after a short wait
        assert not await first.run_tick(tick)  # run already
        await apps[0].stop()  # resigns
        assert await second.run_tick(tick + 1)
        assert not await second.run_tick(tick + 1)
        await until(lambda: len(runs) == 2)
        assert runs == ["a", "b"]
    finally:
        for app in apps:
            await app.stop()


async def test_a_slow_job_leaves_the_server_answering(pbk_app: Any, pbk_client: Any) -> None:
    """A job blocked inside its SQL call holds a database thread, not the event loop."""
    entered, release, done = threading.Event(), threading.Event(), asyncio.Event()

    def held(conn: Any) -> None:
        entered.set()
        release.wait(30)

    async def slow() -> None:
        await pbk_app.db.read(held)
        done.set()

    pbk_app.state[CRON_JOBS].add("slow", "* * * * *", slow)
    assert pbk_app.state[CRON_JOBS].run("slow")
    try:
        assert await asyncio.to_thread(entered.wait, 30)
        response = await pbk_client.get("/api/health")
        assert response.status_code == 200
        assert not done.is_set()
    finally:
        release.set()
    await asyncio.wait_for(done.wait(), 30)


HOOK_PLUGIN = """
from pbk_sdk import hookimpl

async def job():
    pass

@hookimpl
def pbk_register_cron_jobs(app):
    return {JOBS}
"""


@pytest.mark.parametrize(("registered", "message"), [
    ('{"report": ("61 * * * *", job)}', "plugin 'first': cron job 'report': "),
    ('{"report": "0 * * * *"}', "must be registered as id: (expression, job)"),
    ('[("report", "0 * * * *", job)]', "must return a mapping of id to (expression, job)"),
    ('{"report": ("0 * * * *", "job")}', "run must be an async function"),
])
async def test_a_bad_registration_stops_the_start_naming_the_plugin(
    tmp_path: Path, registered: str, message: str
) -> None:
    plugins_dir = tmp_path / "plugins"
    plugins_dir.mkdir()
    (plugins_dir / "first.py").write_text(HOOK_PLUGIN.replace("{JOBS}", registered))
    app = build_app(data_dir=tmp_path / "pb_data", plugins=tuple(PLUGINS), plugins_dir=plugins_dir)
    with pytest.raises(PluginError, match="first") as raised:
        await app.start()
    assert message in str(raised.value)


async def test_two_plugins_registering_one_id_stop_the_start(tmp_path: Path) -> None:
    plugins_dir = tmp_path / "plugins"
    plugins_dir.mkdir()
    for name in ("first", "second"):
        (plugins_dir / f"{name}.py").write_text(HOOK_PLUGIN.replace("{JOBS}", '{"report": ("@daily", job)}'))
    app = build_app(data_dir=tmp_path / "pb_data", plugins=tuple(PLUGINS), plugins_dir=plugins_dir)
    with pytest.raises(PluginError, match="plugin 'second' registers the cron job 'report', as plugin 'first' does"):
        await app.start()


async def test_a_plugin_registers_a_system_id_listed_after_pocketbases_own(tmp_path: Path) -> None:
    plugins_dir = tmp_path / "plugins"
    plugins_dir.mkdir()
    (plugins_dir / "logs_stand_in.py").write_text(HOOK_PLUGIN.replace(
        "{JOBS}", '{"__pbLogsCleanup__": ("0 */6 * * *", job), "mine": ("@daily", job)}'))
    app = build_app(data_dir=tmp_path / "pb_data", plugins=tuple(PLUGINS), plugins_dir=plugins_dir)
    await app.start()
    try:
        assert [job_id for job_id, _ in app.state[CRON_JOBS].jobs()] == [
            "mine", "__pbDBOptimize__", "__pbMFACleanup__", "__pbOTPCleanup__", "__pbLogsCleanup__"]
    finally:
        await app.stop()
