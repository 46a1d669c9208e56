"""PocketBase's realtime protocol against a live pbk: framing, subscriptions, rules, options."""

from __future__ import annotations

import json
import queue
import re
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from pbk_sdk.testing import start_live_server
from pbk_sdk.testing.postgres import database_for, engine_under_test

PLUGINS = "records,auth,realtime"


class SSEClient:
    """Reads a live SSE stream in a thread; events land in a queue as (id, event, data)."""

    def __init__(self, url: str) -> None:
        self.events: queue.Queue[tuple[str, str, str]] = queue.Queue()
        self.raw = b""
        self.headers: dict[str, str] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(url,), daemon=True)
        self._thread.start()

    def _run(self, url: str) -> None:
        try:
            self._read(url)
        except httpx.HTTPError:
            pass  # the server ended the stream (shutdown, idle timeout)

    def _read(self, url: str) -> None:
        with httpx.Client(timeout=None) as client, client.stream("GET", f"{url}/api/realtime") as response:
            self.headers = dict(response.headers)
            buffer = b""
            for chunk in response.iter_raw():
                self.raw += chunk
                buffer += chunk
                while b"\n\n" in buffer:
                    block, buffer = buffer.split(b"\n\n", 1)
                    fields = dict(line.split(":", 1) for line in block.decode().splitlines() if not line.startswith(":"))
                    if fields:
                        self.events.put((fields.get("id", ""), fields.get("event", ""), fields.get("data", "")))
                if self._stop.is_set():
                    return

    def next(self, timeout: float = 5.0) -> tuple[str, str, Any]:
        event_id, event, data = self.events.get(timeout=timeout)
        return event_id, event, json.loads(data)

    def nothing(self, wait: float = 0.7) -> None:
        with pytest.raises(queue.Empty):
            self.events.get(timeout=wait)

    def close(self) -> None:
        self._stop.set()


def serve_with_superuser(data: Path) -> Any:
    """``pbk serve`` of the realtime plugins on ``data``, with a superuser's headers as ``.su``."""
    db = ["--db", database_for(data)] if engine_under_test() == "postgresql" else []
    subprocess.run([sys.executable, "-m", "pbk", "--plugins", PLUGINS, "--dir", str(data), *db,
                    "superuser", "upsert",
                    "root@example.com", "1234567890"], check=True, capture_output=True)
    live = start_live_server(data, ["--plugins", PLUGINS, *db])
    su = httpx.post(f"{live.url}/api/collections/_superusers/auth-with-password",
                    json={"identity": "root@example.com", "password": "1234567890"}).json()["token"]
    live.su = {"Authorization": su}
    return live


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    live = serve_with_superuser(tmp_path_factory.mktemp("realtime") / "pb_data")
    created = httpx.post(f"{live.url}/api/collections", headers=live.su, json={
        "name": "posts", "type": "base", "listRule": "public = true", "viewRule": "public = true",
        "fields": [{"name": "title", "type": "text"}, {"name": "public", "type": "bool"},
                   {"name": "secret", "type": "text", "hidden": True},
                   {"name": "author", "type": "relation", "collectionId": "_pb_users_auth_", "maxSelect": 1}]})
    assert created.status_code == 200, created.text
    yield live
    live.stop()


def subscribe(url: str, client_id: str, topics: list[str], headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.post(f"{url}/api/realtime", json={"clientId": client_id, "subscriptions": topics}, headers=headers or {})


def post(server: Any, body: dict[str, Any]) -> dict[str, Any]:
    result = httpx.post(f"{server.url}/api/collections/posts/records", headers=server.su, json=body)
    assert result.status_code == 200, result.text
    return result.json()


def connect(server: Any) -> tuple[SSEClient, str]:
    client = SSEClient(server.url)
    event_id, event, data = client.next()
    assert event == "PB_CONNECT" and data == {"clientId": event_id}
    return client, event_id


def test_connect_frames_events_exactly_as_pocketbase(server):
    client, client_id = connect(server)
    try:
        assert re.fullmatch(r"[A-Za-z0-9]{40}", client_id)
        assert client.raw.startswith(f'id:{client_id}\nevent:PB_CONNECT\ndata:{{"clientId":"{client_id}"}}\n\n'.encode())
        assert client.headers["content-type"].startswith("text/event-stream")
        assert client.headers["cache-control"] == "no-store"
        assert client.headers["x-accel-buffering"] == "no"
    finally:
        client.close()


def test_subscription_requests_are_validated(server):
    client, client_id = connect(server)
    try:
        missing = httpx.post(f"{server.url}/api/realtime", json={})
        assert missing.status_code == 400 and missing.json()["data"]["clientId"]["code"] == "validation_required"
        unknown = subscribe(server.url, "x" * 40, ["posts/*"])
        assert unknown.status_code == 404 and unknown.json()["message"] == "Missing or invalid client id."
        assert subscribe(server.url, client_id, ["posts/*"], server.su).status_code == 204
        other = subscribe(server.url, client_id, ["posts/*"])
        assert other.status_code == 403
        assert other.json()["message"] == "The current and the previous request authorization don't match."
        assert subscribe(server.url, client_id, ["x"] * 1001, server.su).status_code == 400
    finally:
        client.close()


def test_record_events_follow_the_rules(server):
    guest, guest_id = connect(server)
    admin, admin_id = connect(server)
    try:
        assert subscribe(server.url, guest_id, ["posts/*"]).status_code == 204
        assert subscribe(server.url, admin_id, ["posts"], server.su).status_code == 204
        hidden = post(server, {"title": "private", "public": False, "secret": "s"})
        visible = post(server, {"title": "public", "public": True, "secret": "s"})
        _, event, data = admin.next()
        assert event == "posts" and data["action"] == "create" and data["record"]["id"] == hidden["id"]
        assert data["record"]["secret"] == "s", "superusers see hidden fields"
        _, event, data = admin.next()
        assert data["record"]["id"] == visible["id"]
        event_id, event, data = guest.next()
        assert (event_id, event) == (guest_id, "posts/*")
        assert data["action"] == "create" and data["record"]["id"] == visible["id"]
        assert "secret" not in data["record"], "hidden fields never leak"
        guest.nothing()

        httpx.patch(f"{server.url}/api/collections/posts/records/{visible['id']}", headers=server.su, json={"title": "edited"})
        httpx.delete(f"{server.url}/api/collections/posts/records/{visible['id']}", headers=server.su)
        assert [guest.next()[2]["action"] for _ in range(2)] == ["update", "delete"]
        assert [admin.next()[2]["action"] for _ in range(2)] == ["update", "delete"]
    finally:
        guest.close()
        admin.close()


def test_single_record_topics_and_options(server):
    client, client_id = connect(server)
    try:
        first = post(server, {"title": "one", "public": True})
        second = post(server, {"title": "two", "public": True})
        options = json.dumps({"query": {"fields": "id,title"}})
        topic = f"posts/{first['id']}?options={quote(options)}"
        assert subscribe(server.url, client_id, [topic]).status_code == 204
        for record in (second, first):
            httpx.patch(f"{server.url}/api/collections/posts/records/{record['id']}", headers=server.su, json={"title": "changed"})
        _, event, data = client.next()
        assert event == topic
        assert data == {"record": {"id": first["id"], "title": "changed"}, "action": "update"}
        client.nothing()
        assert subscribe(server.url, client_id, []).status_code == 204
        httpx.patch(f"{server.url}/api/collections/posts/records/{first['id']}", headers=server.su, json={"title": "again"})
        client.nothing()
    finally:
        client.close()


def test_a_write_does_not_wait_for_many_subscribers(server):
    clients = [connect(server) for _ in range(20)]
    try:
        for client, client_id in clients:
            assert subscribe(server.url, client_id, ["posts/*"]).status_code == 204
        started = time.monotonic()
        record = post(server, {"title": "fan-out", "public": True})
        answered = time.monotonic() - started
        for client, _ in clients:
            assert client.next()[2]["record"]["id"] == record["id"]
        assert answered < 2.0
    finally:
        for client, _ in clients:
            client.close()


def test_rules_see_the_subscription_options_as_request_query_and_headers(server):
    changed = httpx.patch(f"{server.url}/api/collections/posts", headers=server.su, json={
        "listRule": "public = true && @request.query.channel = 'news' && @request.headers.x_team = 'red'"})
    assert changed.status_code == 200, changed.text
    client, client_id = connect(server)
    try:
        allowed = quote(json.dumps({"query": {"channel": "news"}, "headers": {"X-Team": "red"}}))
        other = quote(json.dumps({"query": {"channel": "sport"}, "headers": {"X-Team": "red"}}))
        topics = [f"posts/*?options={allowed}", f"posts/*?options={other}"]
        assert subscribe(server.url, client_id, topics).status_code == 204
        record = post(server, {"title": "scoped", "public": True})
        _, event, data = client.next()
        assert event == topics[0] and data["record"]["id"] == record["id"]
        client.nothing()
    finally:
        client.close()
        httpx.patch(f"{server.url}/api/collections/posts", headers=server.su, json={"listRule": "public = true"})


def test_a_bound_auth_follows_its_record(server):
    created = httpx.post(f"{server.url}/api/collections", headers=server.su, json={
        "name": "memos", "type": "base", "listRule": "@request.auth.verified = true",
        "fields": [{"name": "text", "type": "text"}]})
    assert created.status_code == 200, created.text
    user = httpx.post(f"{server.url}/api/collections/users/records", headers=server.su, json={
        "email": "rt@example.com", "password": "rt-password", "passwordConfirm": "rt-password"}).json()
    token = httpx.post(f"{server.url}/api/collections/users/auth-with-password",
                       json={"identity": "rt@example.com", "password": "rt-password"}).json()["token"]
    client, client_id = connect(server)
    try:
        assert subscribe(server.url, client_id, ["memos/*"], {"Authorization": token}).status_code == 204
        httpx.post(f"{server.url}/api/collections/memos/records", headers=server.su, json={"text": "hidden"})
        client.nothing()
        httpx.patch(f"{server.url}/api/collections/users/records/{user['id']}", headers=server.su, json={"verified": True})
        memo = httpx.post(f"{server.url}/api/collections/memos/records", headers=server.su, json={"text": "seen"}).json()
        assert client.next()[2]["record"]["id"] == memo["id"]
    finally:
        client.close()


def test_a_subscription_filter_cannot_probe_hidden_fields_or_other_collections(server):
    client, client_id = connect(server)
    try:
        probes = ["secret = 'classified'", "@collection.users.email ?= 'root@example.com'", "public = true"]
        topics = [f"posts/*?options={quote(json.dumps({'query': {'filter': f}}))}" for f in probes]
        assert subscribe(server.url, client_id, topics).status_code == 204
        record = post(server, {"title": "probe", "public": True, "secret": "classified"})
        _, event, data = client.next()
        assert event == topics[2] and data["record"]["id"] == record["id"]
        client.nothing()  # the hidden field and the @collection join never match for a guest
    finally:
        client.close()
