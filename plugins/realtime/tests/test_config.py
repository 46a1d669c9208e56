"""The realtime knobs (``PBK_REALTIME_IDLE``, ``PBK_REALTIME_BROKER``) belong to each app: read
from the environment when the app starts, so two apps in one process can differ."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from pbk_realtime.broker import MemoryBroker, WorkersBroker
from pbk_realtime.service import REALTIME, RealtimeConfig

PLUGINS = ("records", "auth", "realtime")


async def test_each_app_keeps_the_knobs_it_was_started_with(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from pbk import build_app

    monkeypatch.setenv("PBK_REALTIME_IDLE", "0.2")
    monkeypatch.setenv("PBK_REALTIME_BROKER", "workers")
    quick = build_app(data_dir=tmp_path / "quick", plugins=PLUGINS)
    await quick.start()
    monkeypatch.delenv("PBK_REALTIME_IDLE")
    monkeypatch.delenv("PBK_REALTIME_BROKER")
    default = build_app(data_dir=tmp_path / "default", plugins=PLUGINS)
    await default.start()
    try:
        assert quick.state[REALTIME].config == RealtimeConfig(idle_seconds=0.2, broker="workers")
        assert quick.state[REALTIME].config.ping_seconds == 0.1
        assert default.state[REALTIME].config == RealtimeConfig(idle_seconds=300.0, broker="")
        assert default.state[REALTIME].config.ping_seconds == 30.0
        assert isinstance(quick.state[REALTIME].broker, WorkersBroker)
        assert type(default.state[REALTIME].broker) is MemoryBroker, "one worker: the memory broker"

        idle = quick.state[REALTIME].connect("127.0.0.1")
        kept = default.state[REALTIME].connect("127.0.0.1")
        await asyncio.sleep(0.5)
        assert idle.closed, "closed after 0.2 s without a message"
        assert not kept.closed, "the other app still waits 5 minutes"
    finally:
        await quick.stop()
        await default.stop()


def test_a_quiet_stream_is_pinged_at_half_its_idle_time_and_at_least_every_30_seconds() -> None:
    assert RealtimeConfig.from_environment({"PBK_REALTIME_IDLE": "20"}).ping_seconds == 10.0
    assert RealtimeConfig.from_environment({"PBK_REALTIME_IDLE": "90"}).ping_seconds == 30.0
    assert RealtimeConfig.from_environment({}) == RealtimeConfig(idle_seconds=300.0, broker="")
