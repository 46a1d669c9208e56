"""Faults on a cluster of three pbk nodes on one PostgreSQL database behind HAProxy: a node
killed (SIGKILL, every process of it) while clients write and listen, and PostgreSQL itself
stopped and started again under the nodes.

Each node has a data dir of its own, as on separate machines (no files plugin: files would need
S3 then). The JS SDK's realtime clients run in a background ``node`` while the test breaks
things; they and the test meet through files in the test's folder.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, Self

import httpx
import pytest
from pbk_sdk.testing import superuser_token
from pbk_sdk.testing.cluster_servers import Cluster, start_cluster
from pbk_sdk.testing.js import JsSdk
from pbk_sdk.testing.postgres_server import PostgresServer, postgres_server

pytestmark = pytest.mark.slow

PLUGINS = "records,auth,realtime"
SUPERUSER = ("root@example.com", "1234567890")
ENVELOPE = {"status", "message", "data"}


def start_nodes(base: Path, url: str) -> Cluster:
    """Three nodes (one worker each) on ``url``, each its own data dir, a public ``notes``
    collection made through the balancer."""
    done = subprocess.run([sys.executable, "-m", "pbk", "--plugins", PLUGINS, "--dir", str(base / "node1" / "pb_data"),
                           "--db", url, "superuser", "upsert", *SUPERUSER],
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    cluster = start_cluster([base / f"node{i}" / "pb_data" for i in (1, 2, 3)],
                            ["--plugins", PLUGINS, "--db", url, "--workers", "1"])
    try:
        token = superuser_token(cluster.url, *SUPERUSER)
        made = httpx.post(f"{cluster.url}/api/collections", headers={"Authorization": token}, json={
            "name": "notes", "type": "base", "listRule": "", "viewRule": "", "createRule": "",
            "fields": [{"name": "title", "type": "text"}]}, timeout=30)
        assert made.status_code == 200, made.text
    except BaseException:
        cluster.stop()
        raise
    return cluster


@pytest.fixture
def cluster(tmp_path: Path, postgres_url: str) -> Iterator[Cluster]:
    cluster = start_nodes(tmp_path, postgres_url)
    yield cluster
    cluster.stop()


def stored_ids(url: str) -> set[str]:
    import psycopg

    with psycopg.connect(url) as conn:
        return {row[0] for row in conn.execute("SELECT id FROM notes")}


def until(check: Callable[[], bool], timeout: float) -> float:
    """Seconds until ``check()`` held (fails after ``timeout``)."""
    start = time.monotonic()
    while not check():
        assert time.monotonic() - start < timeout, f"not within {timeout}s"
        time.sleep(0.1)
    return time.monotonic() - start


def is_envelope(response: httpx.Response) -> bool:
    try:
        body = response.json()
    except ValueError:
        return False
    return isinstance(body, dict) and set(body) == ENVELOPE and body["status"] == response.status_code


class Writers:
    """Threads creating notes through the balancer as fast as they can, each outcome kept:
    ``(time, id, status or None, node or None, response or error)``."""

    def __init__(self, url: str, threads: int = 4) -> None:
        self.url, self.outcomes = url, []
        self.stopping = threading.Event()
        self.threads = [threading.Thread(target=self.write, args=(n,)) for n in range(threads)]

    def __enter__(self) -> Self:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        for thread in self.threads:
            thread.join()

    def acknowledged(self, after: float) -> int:
        return sum(status == 200 for at, _, status, *_ in list(self.outcomes) if at > after)

    def write(self, number: int) -> None:
        with httpx.Client(base_url=self.url, timeout=15) as client:
            sequence = 0
            while not self.stopping.is_set():
                sequence += 1
                record_id = f"w{number}{sequence:013d}"
                try:
                    response = client.post("/api/collections/notes/records", json={"id": record_id, "title": "w"})
                except httpx.TransportError as error:
                    self.outcomes.append((time.monotonic(), record_id, None, None, error))
                    continue
                self.outcomes.append((time.monotonic(), record_id, response.status_code,
                                      response.headers.get("x-pbk-node"), response))


def test_a_killed_node_loses_no_acknowledged_write(cluster: Cluster, postgres_url: str) -> None:
    with Writers(cluster.url) as writers:
        time.sleep(1.0)
        killed_at = time.monotonic()
        cluster.kill(1)  # n2
        # The other nodes go on: 30 writes acknowledged once HAProxy had time to notice.
        until(lambda: writers.acknowledged(after=killed_at + 0.5) >= 30, 20)
    acknowledged = {record_id for _, record_id, status, *_ in writers.outcomes if status == 200}
    missing = acknowledged - stored_ids(postgres_url)
    assert not missing, f"{len(missing)} acknowledged writes lost: {sorted(missing)[:5]}"
    assert any(node == "n2" and status == 200 for _, _, status, node, _ in writers.outcomes), \
        "the killed node had taken writes"
    for _, record_id, status, node, answer in writers.outcomes:
        if status is None or status == 200:
            continue  # a connection error is a clean failure
        assert is_envelope(answer), f"{record_id}: {status} from {node or 'haproxy'}: {answer.text}"
        assert node in (None, "n2"), f"{record_id}: {status} from a surviving node {node}: {answer.text}"


#: Three clients subscribe to notes (and count their connections); once the test created
#: "before" on another node and every client saw it, they say so; after the test killed the node
#: of their streams, each reconnects (a second PB_CONNECT), then they create "after-1..3"
#: through the balancer and wait until every client saw each.
RECONNECTING_CLIENTS = """
const fs = await import("node:fs");
const until = async (check, ms, what) => {
  const deadline = Date.now() + ms;
  while (!check()) { if (Date.now() > deadline) throw new Error("timed out: " + what); await sleep(50); }
};
const clients = [], seen = [], connects = [];
for (let i = 0; i < 3; i++) {
  const client = new PocketBase(process.env.PB_URL);
  client.autoCancellation(false);
  seen.push([]); connects.push(0);
  await client.realtime.subscribe("PB_CONNECT", () => { connects[i]++; });
  await client.collection("notes").subscribe("*", (e) => seen[i].push(e.action + " " + e.record.title));
  clients.push(client);
}
const firstIds = clients.map((c) => c.realtime.clientId);
fs.writeFileSync(process.env.SUBSCRIBED, "");
await until(() => seen.every((s) => s.includes("create before")), 15000, "before");
fs.writeFileSync(process.env.SAW_BEFORE, "");
await until(() => connects.every((n) => n >= 2), 30000, "every client reconnected");
for (const title of ["after-1", "after-2", "after-3"]) await pb.collection("notes").create({ title });
await until(() => seen.every((s) => s.length >= 4), 15000, "the events after");
await sleep(500);
output({ seen, connects, firstIds, ids: clients.map((c) => c.realtime.clientId) });
"""


def in_background(js_sdk: JsSdk, script: str, url: str, env: dict[str, str]) -> Future[Any]:
    executor = ThreadPoolExecutor(max_workers=1)
    future = executor.submit(js_sdk.run, script, url, timeout=90, env=env)
    executor.shutdown(wait=False)
    return future


def wait_for(path: Path, future: Future[Any], timeout: float = 30.0) -> None:
    """Wait until the script made ``path`` (its failure, if it ended first, fails the test)."""
    deadline = time.monotonic() + timeout
    while not path.exists():
        if future.done():
            future.result()  # raises the script's error
            raise AssertionError(f"the script ended without making {path.name}")
        assert time.monotonic() < deadline, f"no {path.name} after {timeout}s"
        time.sleep(0.05)


def test_realtime_clients_of_a_killed_node_reconnect_to_another(
        cluster: Cluster, js_sdk: JsSdk, tmp_path: Path) -> None:
    assert cluster.balancer is not None
    for index in (1, 2):  # every stream on n1 first
        cluster.balancer.set_state(index, "maint")
    files = {name: tmp_path / name.lower() for name in ("SUBSCRIBED", "SAW_BEFORE")}
    script = in_background(js_sdk, RECONNECTING_CLIENTS, cluster.url, {k: str(v) for k, v in files.items()})
    wait_for(files["SUBSCRIBED"], script)
    for index in (1, 2):
        cluster.balancer.set_state(index, "ready")
    made = httpx.post(f"{cluster.nodes[1].url}/api/collections/notes/records", json={"title": "before"})
    assert made.status_code == 200, made.text
    wait_for(files["SAW_BEFORE"], script)
    cluster.kill(0)
    result = script.result(timeout=90)
    expected = ["create before", "create after-1", "create after-2", "create after-3"]
    assert result["seen"] == [expected] * 3, "each event reached each client once, in order"
    assert result["connects"] == [2, 2, 2]
    assert not set(result["ids"]) & set(result["firstIds"]), "new streams, new client ids"


@pytest.fixture
def own_postgres(tmp_path: Path) -> Iterator[PostgresServer]:
    with postgres_server() as server:
        yield server


#: Two clients subscribe to notes, then wait for the test's go (PostgreSQL was stopped and is
#: back); then a note is created every second until each client saw one (their streams may be
#: restarting meanwhile), then "last", which each must see.
LISTENING_CLIENTS = """
const fs = await import("node:fs");
const until = async (check, ms, what) => {
  const deadline = Date.now() + ms;
  while (!check()) { if (Date.now() > deadline) throw new Error("timed out: " + what); await sleep(50); }
};
const clients = [], seen = [];
for (let i = 0; i < 2; i++) {
  const client = new PocketBase(process.env.PB_URL);
  client.autoCancellation(false);
  seen.push([]);
  await client.collection("notes").subscribe("*", (e) => seen[i].push(e.record.title));
  clients.push(client);
}
fs.writeFileSync(process.env.SUBSCRIBED, "");
await until(() => fs.existsSync(process.env.GO), 60000, "the test's go");
for (let probe = 1; !seen.every((s) => s.some((t) => t.startsWith("probe"))); probe++) {
  if (probe > 20) throw new Error("no probe reached every client: " + JSON.stringify(seen));
  await pb.collection("notes").create({ title: "probe-" + probe });
  await sleep(1000);
}
await pb.collection("notes").create({ title: "last" });
await until(() => seen.every((s) => s.includes("last")), 10000, "last");
output({ seen });
"""


def test_a_postgresql_restart_is_survived(own_postgres: PostgresServer, js_sdk: JsSdk, tmp_path: Path) -> None:
    cluster = start_nodes(tmp_path, own_postgres.url("pbk"))
    try:
        files = {name: tmp_path / name.lower() for name in ("SUBSCRIBED", "GO")}
        script = in_background(js_sdk, LISTENING_CLIENTS, cluster.url, {k: str(v) for k, v in files.items()})
        wait_for(files["SUBSCRIBED"], script)
        with httpx.Client(base_url=cluster.url, timeout=15) as client:
            assert client.get("/api/collections/notes/records").status_code == 200
            own_postgres.stop()
            for attempt in range(6):  # a write and a read on each node (round-robin) while it is down
                if attempt % 2:
                    read = client.get("/api/collections/notes/records")
                    # PocketBase's list answers a query that failed with 400, pbk's likewise.
                    assert read.status_code in (400, 500, 503) and is_envelope(read), read.text
                else:
                    write = client.post("/api/collections/notes/records", json={"title": "down"})
                    assert write.status_code >= 500 and is_envelope(write), write.text
            own_postgres.start()
            first = until(lambda: client.get("/api/collections/notes/records").status_code == 200, 20)
            answers = [client.post("/api/collections/notes/records", json={"title": "up"}).status_code
                       for _ in range(6)]
            assert answers == [200] * 6, f"after PostgreSQL came back ({first:.1f}s): {answers}"
        files["GO"].write_text("")
        seen = script.result(timeout=90)["seen"]
        assert all("last" in titles for titles in seen), seen
    finally:
        cluster.stop()

