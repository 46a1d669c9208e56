"""A broker from another plugin: one written against the two required methods (``publish``,
``on_message``) works by subclassing ``RealtimeBroker``; one that does not subclass it and
lacks a method stops the app at start-up with a message naming what is missing."""

from __future__ import annotations

import asyncio
import textwrap
from pathlib import Path

import pytest
from pbk import build_app
from pbk_realtime.hub import Topic
from pbk_realtime.service import REALTIME
from pbk_sdk.errors import PluginError
from pbk_sdk.interfaces import RECORD_STORE, RealtimeMessage

BROKERS_PLUGIN = textwrap.dedent('''
    from pbk_sdk import PluginInfo, hookimpl
    from pbk_sdk.interfaces import RealtimeBroker

    PLUGIN = PluginInfo(name="small_brokers")


    class SmallBroker(RealtimeBroker):
        """Only what a broker must do; the rest comes from RealtimeBroker."""

        def __init__(self):
            self.receivers = []

        async def publish(self, message):
            for receiver in self.receivers:
                await receiver(message)

        def on_message(self, receiver):
            self.receivers.append(receiver)


    class BareBroker:
        """The same two methods, without the protocol's defaults."""

        async def publish(self, message):
            pass

        def on_message(self, receiver):
            pass


    @hookimpl
    def pbk_register_realtime_brokers(app):
        return {"small": lambda app: SmallBroker(), "bare": lambda app: BareBroker()}
''')


@pytest.fixture
def plugins_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "plugins"
    directory.mkdir()
    (directory / "small_brokers.py").write_text(BROKERS_PLUGIN)
    return directory


async def test_a_broker_with_only_publish_and_on_message_gets_the_defaults(
    tmp_path: Path, plugins_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PBK_REALTIME_BROKER", "small")
    app = build_app(data_dir=tmp_path / "pb_data", plugins=["records", "auth", "realtime"], plugins_dir=plugins_dir)
    await app.start()
    try:
        realtime = app.state[REALTIME]
        assert type(realtime.broker).__name__ == "SmallBroker"
        client = realtime.connect("127.0.0.1")  # calls the default clients_here
        client.topics = {"deploys": Topic.parse("deploys"), "users": Topic.parse("users")}
        await realtime.broker.publish(RealtimeMessage("deploys", b'{"version":"1.2.3"}'))
        head, payload = await asyncio.wait_for(client.queue.get(), 2)
        assert head.endswith(b"event:deploys\ndata:") and payload == b'{"version":"1.2.3"}'

        store = app.services.get(RECORD_STORE, "sqlite")
        await store.create(store.collection("users"), {"email": "ada@example.com", "password": "ada-password"})
        assert realtime.broker.anyone_listening() is True, "the default: it cannot tell, so it publishes"
        realtime.disconnect(client)
    finally:
        await app.stop()  # calls the default close


async def test_a_broker_missing_a_method_stops_the_start_naming_it(
    tmp_path: Path, plugins_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PBK_REALTIME_BROKER", "bare")
    app = build_app(data_dir=tmp_path / "pb_data", plugins=["records", "auth", "realtime"], plugins_dir=plugins_dir)
    with pytest.raises(PluginError, match="realtime broker 'bare' lacks clients_here, anyone_listening, close"):
        await app.start()
    await app.stop()
