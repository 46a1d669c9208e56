"""A change that matches many of one client's subscriptions reaches all of them, as in
PocketBase; the queue bound is for clients that do not read, not for clients that subscribe."""

from __future__ import annotations

import json

import httpx
import pytest
from test_realtime import connect, serve_with_superuser, subscribe

SUBSCRIPTIONS = 1000


@pytest.fixture
def server(tmp_path):
    live = serve_with_superuser(tmp_path / "pb_data")
    created = httpx.post(f"{live.url}/api/collections", headers=live.su, json={
        "name": "notes", "type": "base", "fields": [{"name": "title", "type": "text"}]})
    assert created.status_code == 200, created.text
    yield live
    live.stop()


def test_one_change_reaches_a_thousand_subscriptions_of_one_client(server):
    client, client_id = connect(server)
    try:
        options = [json.dumps({"query": {"n": str(n)}}) for n in range(SUBSCRIPTIONS)]
        topics = [f"notes/*?options={option}" for option in options]
        assert subscribe(server.url, client_id, topics, server.su).status_code == 204

        for title in ("first", "second"):
            created = httpx.post(f"{server.url}/api/collections/notes/records", headers=server.su,
                                 json={"title": title})
            assert created.status_code == 200, created.text
            received = [client.next(timeout=30) for _ in range(SUBSCRIPTIONS)]
            assert sorted(event for _, event, _ in received) == sorted(topics)
            assert all(data["record"]["title"] == title and event_id == client_id
                       for event_id, _, data in received)
        client.nothing()
    finally:
        client.close()


@pytest.fixture
def pbk_plugins() -> list[str]:
    return ["records", "auth", "realtime"]


async def test_a_shared_payload_counts_once_and_a_client_that_does_not_read_still_goes(pbk_app):
    from pbk_realtime import hub as hub_module
    from pbk_realtime.service import REALTIME

    slow = pbk_app.state[REALTIME].hub.connect("127.0.0.1")
    payload = b"p" * 10_000
    messages = [(f"notes/*?n={n}", payload) for n in range(SUBSCRIPTIONS)]
    heads = sum(len(hub_module.sse_head(slow.id, topic)) for topic, _ in messages)
    slow.send_all(messages)
    assert slow.queued_bytes == heads + len(payload), "the payload once, every message's own lines"
    for _ in range(hub_module.QUEUE_SIZE - 1):
        slow.send_all(messages[:2])
    assert not slow.closed
    slow.send_all(messages[:2])
    assert slow.closed, "past the bound in deliveries"
