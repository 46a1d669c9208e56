"""The official JS SDK's realtime client against a live pbk (with the `eventsource` package)."""

from __future__ import annotations

import subprocess
import sys

import httpx
import pytest
from pbk_sdk.testing import start_live_server
from pbk_sdk.testing.postgres import database_for, engine_under_test

pytestmark = pytest.mark.slow
PLUGINS = "records,auth,realtime"


def start(tmp_path_factory, env=None):
    data = tmp_path_factory.mktemp("realtime-js") / "pb_data"
    db = ["--db", database_for(data)] if engine_under_test() == "postgresql" else []
    subprocess.run([sys.executable, "-m", "pbk", "--plugins", PLUGINS, "--dir", str(data), *db,
                    "superuser", "upsert",
                    "root@example.com", "1234567890"], check=True, capture_output=True)
    live = start_live_server(data, ["--plugins", PLUGINS, *db], env=env)
    token = httpx.post(f"{live.url}/api/collections/_superusers/auth-with-password",
                       json={"identity": "root@example.com", "password": "1234567890"}).json()["token"]
    su = {"Authorization": token}
    for payload in (
        {"name": "users", "type": "auth", "createRule": "", "listRule": "id = @request.auth.id", "viewRule": "id = @request.auth.id"},
        {"name": "posts", "type": "base", "listRule": "", "viewRule": "", "fields": [
            {"name": "title", "type": "text"},
            {"name": "author", "type": "relation", "collectionId": "_pb_users_auth_", "maxSelect": 1}]},
        {"name": "secrets", "type": "base", "listRule": None, "fields": [{"name": "title", "type": "text"}]},
    ):
        method = httpx.patch if payload["name"] == "users" else httpx.post
        url = f"{live.url}/api/collections" + ("/users" if payload["name"] == "users" else "")
        result = method(url, headers=su, json=payload)
        assert result.status_code == 200, result.text
    return live


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    live = start(tmp_path_factory)
    yield live
    live.stop()


@pytest.fixture(scope="module")
def idle_server(tmp_path_factory):
    """Streams idle for 2 s are closed, as PocketBase closes them after 5 minutes: the SDK must
    reconnect and subscribe again on its own. (Only here: on a loaded machine 2 s can pass
    between a subscription and the events another test waits for.)"""
    live = start(tmp_path_factory, env={"PBK_REALTIME_IDLE": "2"})
    yield live
    live.stop()


PRELUDE = """
const su = new PocketBase(process.env.PB_URL);
await su.collection("_superusers").authWithPassword("root@example.com", "1234567890");
const events = [];
"""


def test_subscribe_to_all_and_to_one_record(js_sdk, server):
    result = js_sdk.run(PRELUDE + """
const first = await su.collection("posts").create({ title: "first" });
await pb.collection("posts").subscribe("*", (e) => events.push(["*", e.action, e.record.title]));
await pb.collection("posts").subscribe(first.id, (e) => events.push(["one", e.action, e.record.title]));
const second = await su.collection("posts").create({ title: "second" });
await su.collection("posts").update(first.id, { title: "first!" });
await su.collection("posts").delete(second.id);
await sleep(700);
await pb.collection("posts").unsubscribe("*");
await su.collection("posts").update(first.id, { title: "only one" });
await sleep(700);
await pb.collection("posts").unsubscribe();
await su.collection("posts").update(first.id, { title: "nobody" });
await sleep(500);
output(events);
""", server.url)
    assert result == [
        ["*", "create", "second"],
        ["*", "update", "first!"],
        ["one", "update", "first!"],
        ["*", "delete", "second"],
        ["one", "update", "only one"],
    ]


def test_subscribers_without_access_receive_nothing(js_sdk, server):
    result = js_sdk.run(PRELUDE + """
const ada = await su.collection("users").create({ email: "ada@example.com", password: "ada-password", passwordConfirm: "ada-password" });
await su.collection("users").create({ email: "bob@example.com", password: "bob-password", passwordConfirm: "bob-password" });
await pb.collection("users").authWithPassword("bob@example.com", "bob-password");
await pb.collection("users").subscribe("*", (e) => events.push(["users", e.record.email ?? "", e.record.id]));
await pb.collection("secrets").subscribe("*", (e) => events.push(["secrets", e.action]));
await su.collection("users").update(ada.id, { name: "Ada" });
await su.collection("secrets").create({ title: "classified" });
const me = pb.authStore.record.id;
await su.collection("users").update(me, { emailVisibility: false });
await sleep(800);
output({ events, me });
""", server.url)
    assert result["events"] == [["users", "bob@example.com", result["me"]]], "only the own record, email shown to its owner"


def test_options_are_applied_to_the_event_record(js_sdk, server):
    result = js_sdk.run(PRELUDE + """
const author = await su.collection("users").create({ email: "carl@example.com", password: "carl-password", passwordConfirm: "carl-password", name: "Carl" });
await pb.collection("posts").subscribe("*", (e) => events.push(e.record), { expand: "author", fields: "title,expand.author.id" });
await su.collection("posts").create({ title: "expanded", author: author.id });
await sleep(600);
output({ events, author: author.id });
""", server.url)
    # Guests cannot view users (viewRule): the author is dropped silently and, as in
    # PocketBase's REST answers, an empty "expand" object stays.
    assert result["events"] == [{"title": "expanded", "expand": {}}]


def test_a_dropped_stream_reconnects_and_keeps_its_subscriptions(js_sdk, idle_server):
    result = js_sdk.run(PRELUDE + """
const ids = [];
let connects = 0;
// The SDK calls PB_CONNECT listeners once it has sent the subscriptions again on a new stream.
await pb.realtime.subscribe("PB_CONNECT", () => { connects++; });
await pb.collection("posts").subscribe("*", (e) => events.push(e.record.title));
ids.push(pb.realtime.clientId);
const started = connects;
while (connects === started) await sleep(20);  // the server ended the idle stream (2 s), the SDK reconnected
await su.collection("posts").create({ title: "after reconnect" });
for (let waited = 0; !events.length && waited < 5000; waited += 20) await sleep(20);
ids.push(pb.realtime.clientId);
output({ events, ids });
""", idle_server.url, timeout=60)
    assert result["events"] == ["after reconnect"]
    assert result["ids"][0] != result["ids"][1], "a new stream, a new client id"
