"""Realtime across two ``pbk serve`` nodes sharing one PostgreSQL database (each its own data
dir, one or two workers): the official JS SDK subscribed on node B gets every change made
through A or B exactly once, rule-checked; a subscription posted to A reaches B's stream."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest
from pbk_sdk.testing.nodes import Node, running_nodes
from pbk_sdk.testing.postgres import postgres_database
from pbk_sdk.testing.sse import sse_events

pytestmark = pytest.mark.slow
PLUGINS = ["records", "auth", "realtime"]


@pytest.fixture(scope="module", params=[1, 2], ids=["1-worker", "2-workers"])
def nodes(request, tmp_path_factory) -> Iterator[list[Node]]:
    with postgres_database() as url, \
            running_nodes(tmp_path_factory.mktemp("realtime-nodes"), url, PLUGINS, workers=request.param) as nodes:
        posts = {"name": "posts", "type": "base", "listRule": "public = true", "viewRule": "public = true",
                 "fields": [{"name": "title", "type": "text"}, {"name": "public", "type": "bool"}]}
        made = httpx.post(f"{nodes[0].url}/api/collections", headers={"Authorization": nodes[0].token},
                          json=posts, timeout=30)
        assert made.status_code == 200, made.text
        yield nodes


def test_a_subscriber_on_b_gets_the_changes_made_through_either_node_once(js_sdk, nodes):
    a, b = nodes
    events = js_sdk.run("""
const through = {};
for (const [name, url] of [["a", process.env.NODE_A], ["b", process.env.PB_URL]]) {
  through[name] = new PocketBase(url);
  through[name].autoCancellation(false);
  await through[name].collection("_superusers").authWithPassword("root@example.com", "1234567890");
}
const events = [];
await pb.collection("posts").subscribe("*", (e) => events.push([e.action, e.record.title]));
for (const name of ["a", "b"]) {
  const posts = through[name].collection("posts");
  const post = await posts.create({ title: `${name}1`, public: true });
  await posts.create({ title: `${name} hidden`, public: false });
  await posts.update(post.id, { title: `${name}2` });
  await posts.delete(post.id);
}
const deadline = Date.now() + 10000;
while (events.length < 6 && Date.now() < deadline) await sleep(100);
await sleep(500);  // anything arriving twice comes now
output(events);
""", b.url, env={"NODE_A": a.url})
    # Each node's changes in their order; A's last may reach B after B's first (no order holds
    # between two nodes' messages beyond the database's).
    assert [e for e in events if e[1].startswith("a")] == [["create", "a1"], ["update", "a2"], ["delete", "a2"]]
    assert [e for e in events if e[1].startswith("b")] == [["create", "b1"], ["update", "b2"], ["delete", "b2"]]
    assert len(events) == 6, events


async def test_a_subscription_posted_to_a_reaches_the_stream_on_b(nodes):
    a, b = nodes
    async with httpx.AsyncClient(base_url=b.url, timeout=10) as streaming, \
            streaming.stream("GET", "/api/realtime") as stream, \
            httpx.AsyncClient(base_url=a.url, timeout=10) as client:
        events = sse_events(stream.aiter_lines())
        _, connected = await anext(events)
        client_id = connected["clientId"]
        subscribed = await client.post("/api/realtime", json={"clientId": client_id, "subscriptions": ["posts"]})
        assert subscribed.status_code == 204, subscribed.text
        unknown = await client.post("/api/realtime", json={"clientId": "zz" + client_id[2:], "subscriptions": []})
        assert unknown.json() == {"status": 404, "message": "Missing or invalid client id.", "data": {}}
        created = await client.post("/api/collections/posts/records", headers={"Authorization": a.token},
                                    json={"title": "to b", "public": True})
        assert created.status_code == 200, created.text
        event, data = await asyncio.wait_for(anext(events), 10)
    assert (event, data["action"], data["record"]["id"]) == ("posts", "create", created.json()["id"])
