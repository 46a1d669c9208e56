"""Other plugins publish their own realtime messages through the broker service."""

from __future__ import annotations

import asyncio

import pytest
from pbk_realtime.hub import Topic
from pbk_realtime.service import REALTIME
from pbk_sdk.interfaces import REALTIME_CLIENTS, RealtimeMessage


@pytest.fixture
def pbk_plugins() -> list[str]:
    return ["records", "auth", "realtime"]


async def next_event(client) -> tuple[bytes, bytes]:
    head, payload = await asyncio.wait_for(client.queue.get(), 2)
    client.taken(payload)
    return head, payload


async def test_a_topic_message_reaches_its_subscribers_and_a_client_message_one_client(pbk_app):
    hub = pbk_app.state[REALTIME].hub
    broker = pbk_app.services.get("realtime_broker", "memory")
    listener, other = hub.connect("127.0.0.1"), hub.connect("127.0.0.1")
    listener.topics = {"deploys": Topic.parse("deploys")}

    await broker.publish(RealtimeMessage("deploys", b'{"version":"1.2.3"}'))
    head, payload = await next_event(listener)
    assert head == f"id:{listener.id}\nevent:deploys\ndata:".encode() and payload == b'{"version":"1.2.3"}'
    assert not other.queue, "not subscribed, not sent"

    await broker.publish(RealtimeMessage("@oauth2", b'{"state":"s","code":"c"}', client_id=other.id))
    head, payload = await next_event(other)
    assert head.startswith(f"id:{other.id}\nevent:@oauth2\n".encode())
    await asyncio.sleep(0.05)
    assert not listener.queue, "a message for one client reaches only that client"


async def test_send_once_from_another_address_drops_the_subscription(pbk_app):
    """As PocketBase's OAuth2 redirect: the client found, its topic goes, even if the address
    then fails, so the right address cannot follow up on it."""
    clients = pbk_app.state[REALTIME_CLIENTS]
    client = pbk_app.state[REALTIME].hub.connect("127.0.0.1")
    client.topics = {"@oauth2": Topic.parse("@oauth2")}
    assert not await clients.send_once(client.id, "@oauth2", b"{}", remote="10.9.9.9")
    assert "@oauth2" not in client.topics
    assert not await clients.send_once(client.id, "@oauth2", b"{}", remote="127.0.0.1")
    assert not client.queue


async def test_a_client_that_falls_behind_is_disconnected(pbk_app):
    from pbk_realtime import hub as hub_module

    hub = pbk_app.state[REALTIME].hub
    slow = hub.connect("127.0.0.1")
    for _ in range(hub_module.QUEUE_SIZE):
        slow.send("t", b"x")
    assert not slow.closed
    slow.send("t", b"x")
    assert slow.closed and await slow.queue.get() is None, "the stream is told to end"
