"""Several ``pbk serve --db postgresql://...`` nodes on one database act as one server.

Each node is a real ``pbk serve`` with a data dir of its own, on a fresh PostgreSQL database;
the ``cluster_probe`` test plugin (``pbk_sdk.testing.cluster``) shows each process's
``app.cluster`` over HTTP. Every request goes on a new connection, so a node's workers share
them. The last tests kill nodes and connections, so they make clusters of their own.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from pbk.cluster import Cluster
from pbk_sdk.errors import WorkerUnreachable
from pbk_sdk.interfaces import ANOTHER_NODE, Member
from pbk_sdk.testing import LiveServer, postgres_database, start_live_server
from pbk_sdk.testing.cluster import CLUSTER, write_cluster_plugin

PLUGINS = "records,auth,settings,cluster_probe"
SUPERUSER = ("root@example.com", "su-password-123")


class Nodes:
    """The nodes of one cluster, with a superuser's headers."""

    def __init__(self, url: str, root: Path) -> None:
        self.url = url
        self.root = root
        self.servers: list[LiveServer] = []
        self.su: dict[str, str] = {}

    def start(self, counts: list[int]) -> None:
        """Start nodes of ``counts`` workers each, all at once (as a cluster's machines boot)."""
        first = len(self.servers)
        with ThreadPoolExecutor(len(counts)) as pool:
            started = [pool.submit(start_live_server, self.root / f"node{first + index}" / "pb_data", [
                "--db", self.url, "--plugins", PLUGINS, "--pluginsDir", str(self.root / "plugins"),
                "--workers", str(workers)]) for index, workers in enumerate(counts)]
        for future in started:  # every one kept, so that stop() ends those that did start
            if future.exception() is None:
                self.servers.append(future.result())
        for future in started:
            future.result()

    def sign_in(self) -> None:
        token = httpx.post(f"{self.servers[0].url}/api/collections/_superusers/auth-with-password",
                           json={"identity": SUPERUSER[0], "password": SUPERUSER[1]}, timeout=15)
        assert token.status_code == 200, token.text
        self.su = {"Authorization": token.json()["token"]}

    def stop(self) -> None:
        for server in self.servers:
            server.stop()


def make_cluster(root: Path, url: str, counts: list[int]) -> Nodes:
    """Nodes with ``counts`` workers each, on the database ``url``, once every member is live."""
    write_cluster_plugin(root / "plugins")
    done = subprocess.run(
        [sys.executable, "-m", "pbk", "--plugins", "records,auth", "--db", url, "--dir", str(root / "setup"),
         "superuser", "upsert", *SUPERUSER], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    nodes = Nodes(url, root)
    try:
        nodes.start(counts)
        wait_for(lambda: len(view(nodes.servers[0])["members"]) == sum(counts), "every member joined")
        nodes.sign_in()
    except BaseException:
        nodes.stop()
        raise
    return nodes


def wait_for(check: Callable[[], bool], what: str, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout}s: {what}")
        time.sleep(0.05)


def view(server: LiveServer) -> dict[str, Any]:
    """The cluster as the process that takes this request sees it."""
    return get(server, CLUSTER)


def everyone(server: LiveServer) -> dict[int, dict[str, Any]]:
    """Every member's own view, asked through the process that takes this request (a member
    that just died may still be listed, and not answer: left out)."""
    return {int(number): answer for number, answer in get(server, f"{CLUSTER}/everyone").items()
            if "unreachable" not in answer}


def get(server: LiveServer, path: str, **kwargs: Any) -> Any:
    response = httpx.get(f"{server.url}{path}", timeout=15, **kwargs)
    assert response.status_code == 200, response.text
    return response.json()


def post(server: LiveServer, path: str, body: dict[str, Any], **kwargs: Any) -> httpx.Response:
    return httpx.post(f"{server.url}{path}", json=body, timeout=15, **kwargs)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Nodes]:
    """Two nodes of two workers each, shared by the tests that leave them as they are."""
    with postgres_database() as url:
        nodes = make_cluster(tmp_path_factory.mktemp("cluster"), url, [2, 2])
        try:
            yield nodes
        finally:
            nodes.stop()


@pytest.fixture
def own_cluster(tmp_path: Path) -> Iterator[Callable[[list[int]], Nodes]]:
    """A cluster of the test's own, for tests that kill nodes or connections."""
    made: list[Nodes] = []
    with postgres_database() as url:

        def make(counts: list[int]) -> Nodes:
            made.append(make_cluster(tmp_path, url, counts))
            return made[-1]

        try:
            yield make
        finally:
            for nodes in made:
                nodes.stop()


# -- shared state -----------------------------------------------------------------------------


def test_a_collection_made_through_one_node_is_seen_by_the_next_request_to_the_other(cluster: Nodes) -> None:
    first, second = cluster.servers
    for index in range(6):
        maker, reader = (first, second) if index % 2 == 0 else (second, first)
        name = f"posts_{index}"
        made = post(maker, "/api/collections", {"name": name, "type": "base",
                                                "fields": [{"name": "title", "type": "text"}]}, headers=cluster.su)
        assert made.status_code == 200, made.text
        # The very next request, to the other node (either of its workers), knows the collection.
        listed = httpx.get(f"{reader.url}/api/collections/{name}/records", headers=cluster.su, timeout=15)
        assert listed.status_code == 200, listed.text
        created = post(reader, f"/api/collections/{name}/records", {"title": "hi"}, headers=cluster.su)
        assert created.status_code == 200, created.text


def test_a_settings_change_is_seen_by_the_next_request_to_the_other_node(cluster: Nodes) -> None:
    first, second = cluster.servers
    for index in range(4):
        writer, reader = (first, second) if index % 2 == 0 else (second, first)
        changed = httpx.patch(f"{writer.url}/api/settings", json={"meta": {"appName": f"Cluster {index}"}},
                              headers=cluster.su, timeout=15)
        assert changed.status_code == 200, changed.text
        assert get(reader, "/api/settings", headers=cluster.su)["meta"]["appName"] == f"Cluster {index}"


def test_a_change_is_answered_once_every_process_of_the_other_nodes_took_note(
    own_cluster: Callable[[list[int]], Nodes]
) -> None:
    nodes = own_cluster([1, 1])
    first, second = nodes.servers

    def create_while_the_other_node_is_busy(name: str, busy: float) -> float:
        blocker = threading.Thread(target=post, args=(second, f"{CLUSTER}/block", {"seconds": busy}))
        blocker.start()
        time.sleep(0.2)  # the other node's only process now holds its event loop
        started = time.monotonic()
        made = post(first, "/api/collections", {"name": name, "type": "base"}, headers=nodes.su)
        took = time.monotonic() - started
        blocker.join()
        assert made.status_code == 200, made.text
        assert httpx.get(f"{second.url}/api/collections/{name}/records", headers=nodes.su,
                         timeout=15).status_code == 200
        return took

    # Answered when the busy process took note (it is alive: waited for) ...
    assert 1.0 < create_while_the_other_node_is_busy("noted", 1.5) < 4.5
    # ... but not longer than SETTLE_SECONDS for one that stays silent, with a warning.
    assert 4.5 < create_while_the_other_node_is_busy("silent", 7.0) < 8.0
    assert "did not acknowledge a change within 5.0s" in first.output()


# -- messages ---------------------------------------------------------------------------------


def test_a_broadcast_reaches_every_other_process_of_every_node_exactly_once(cluster: Nodes) -> None:
    first, second = cluster.servers
    before = {number: len(received) for number, received in get(first, f"{CLUSTER}/received").items()}
    senders = {}
    for index in range(6):
        text = f"news {index} " + "x" * (9000 if index == 5 else 0)  # the last one through a table
        sent = post(first if index % 2 == 0 else second, f"{CLUSTER}/broadcast", {"data": text})
        assert sent.status_code == 200, sent.text
        senders[text] = sent.json()["member"]
    members = view(first)["members"]
    nodes = {int(number): member["node"] for number, member in members.items()}

    def all_arrived() -> bool:
        received = get(first, f"{CLUSTER}/received")
        return all(len(items) - before.get(number, 0) == sum(1 for s in senders.values() if s != int(number))
                   for number, items in received.items())

    wait_for(all_arrived, "every broadcast arrived")
    for number, items in get(first, f"{CLUSTER}/received").items():
        fresh = items[before.get(number, 0):]
        expected = [text for text, sender in senders.items() if sender != int(number)]
        assert [data for _, data in fresh] == expected  # once each, in the order sent
        for (from_worker, data) in fresh:
            from_another_node = nodes[senders[data]] != nodes[int(number)]
            assert (from_worker == ANOTHER_NODE) == from_another_node


def test_call_member_reaches_each_process_of_every_node(cluster: Nodes) -> None:
    first, second = cluster.servers
    members = view(first)["members"]
    assert len({member["node"] for member in members.values()}) == 2
    for server in (first, second):
        for number, member in members.items():
            answer = post(server, f"{CLUSTER}/call", {"member": int(number), "data": f"to {number}"})
            assert answer.status_code == 200, answer.text
            assert answer.json()["member"] == int(number)
            assert answer.json()["pid"] == member["pid"]
            assert answer.json()["data"] == f"to {number}"
    gone = post(first, f"{CLUSTER}/call", {"member": 3000, "data": "?"})
    assert gone.status_code == 404
    assert gone.json()["message"] == "No cluster member 3000."


def test_consume_holds_a_limit_across_nodes_and_gives_back(cluster: Nodes) -> None:
    first, second = cluster.servers
    counted = [post(server, f"{CLUSTER}/consume", {"key": "login:ada", "limit": 5, "window": 30}).json()["counted"]
               for _ in range(4) for server in (first, second)]
    assert counted == [True] * 5 + [False] * 3
    assert post(first, f"{CLUSTER}/give-back", {"key": "login:ada"}).status_code == 200
    assert post(second, f"{CLUSTER}/consume", {"key": "login:ada", "limit": 5, "window": 30}).json()["counted"]
    assert not post(first, f"{CLUSTER}/consume", {"key": "login:ada", "limit": 5, "window": 30}).json()["counted"]
    # A window of its own per key, and a new window once it ended.
    assert post(first, f"{CLUSTER}/consume", {"key": "short", "limit": 1, "window": 0.5}).json()["counted"]
    assert not post(second, f"{CLUSTER}/consume", {"key": "short", "limit": 1, "window": 0.5}).json()["counted"]
    time.sleep(0.6)
    assert post(second, f"{CLUSTER}/consume", {"key": "short", "limit": 1, "window": 0.5}).json()["counted"]


def test_members_know_each_other(cluster: Nodes) -> None:
    views = everyone(cluster.servers[1])
    assert len(views) == 4
    for number, seen in views.items():
        assert seen["member"] == number
        assert sorted(map(int, seen["members"])) == sorted(views)
        own = seen["members"][str(number)]
        assert (own["pid"], own["worker"], own["node"]) == (seen["pid"], seen["worker"], seen["node"])
        assert own["data_dir"] in {str(server.data_dir.resolve()) for server in cluster.servers}
    assert sum(seen["leading"] for seen in views.values()) == 1


# -- failures ---------------------------------------------------------------------------------


def test_one_member_leads_and_another_takes_over_when_its_node_is_killed(
    own_cluster: Callable[[list[int]], Nodes]
) -> None:
    nodes = own_cluster([2, 1, 1])
    views = everyone(nodes.servers[0])
    [leader] = [seen for seen in views.values() if seen["leading"]]
    victim = next(server for server in nodes.servers if str(server.data_dir.resolve()) ==
                  leader["members"][str(leader["member"])]["data_dir"])
    survivors = [server for server in nodes.servers if server is not victim]
    pids = [seen["pid"] for seen in views.values() if seen["node"] == leader["node"]]
    for pid in [victim.process.pid, *pids]:  # the whole node at once, as a machine that dies
        os.kill(pid, signal.SIGKILL)
    killed = time.monotonic()

    def one_survivor_leads() -> bool:
        leaders = [seen for seen in everyone(survivors[0]).values() if seen["leading"]]
        return len(leaders) == 1 and leaders[0]["node"] != leader["node"]

    wait_for(one_survivor_leads, "another node's member leads", timeout=10)
    assert time.monotonic() - killed < 8  # about a second, unless the machine is very busy
    for _ in range(5):  # and only one, however often asked
        views = everyone(survivors[1])
        assert sum(seen["leading"] for seen in views.values()) == 1
        assert all(pid not in {seen["pid"] for seen in views.values()} for pid in pids)


def test_a_member_killed_disappears_from_members_and_is_not_waited_for(
    own_cluster: Callable[[list[int]], Nodes]
) -> None:
    nodes = own_cluster([1, 2])
    first, second = nodes.servers
    victim = next(seen for seen in everyone(first).values() if seen["workers"] == 2 and seen["worker"] == 1)
    os.kill(victim["pid"], signal.SIGKILL)
    killed = time.monotonic()
    wait_for(lambda: victim["pid"] not in {m["pid"] for m in view(first)["members"].values()},
             "the killed member is gone", timeout=8)
    assert time.monotonic() - killed < 5  # about a second, unless the machine is very busy
    # A change made meanwhile is answered without waiting for the dead member.
    started = time.monotonic()
    made = post(first, "/api/collections", {"name": "after_kill", "type": "base"}, headers=nodes.su)
    assert made.status_code == 200, made.text
    assert time.monotonic() - started < 4.5  # not SETTLE_SECONDS waiting for the dead one
    # Its node's supervisor starts another worker, which joins.
    wait_for(lambda: len(view(first)["members"]) == 3, "the replacement worker joined")
    for _ in range(4):
        assert httpx.get(f"{second.url}/api/collections/after_kill/records", headers=nodes.su,
                         timeout=15).status_code == 200


def test_a_lost_listen_connection_resyncs_and_the_node_keeps_working(
    own_cluster: Callable[[list[int]], Nodes]
) -> None:
    nodes = own_cluster([1, 1])
    first, second = nodes.servers
    before = view(second)
    with psycopg.connect(nodes.url, autocommit=True) as conn:
        ended = conn.execute(
            "SELECT pg_terminate_backend(a.pid) FROM pg_stat_activity a JOIN _pbk_members m ON m.backend_pid = a.pid "
            "WHERE m.pid = %s AND a.application_name = 'pbk-cluster-listen'", (before["pid"],)).fetchall()
    assert ended == [(True,)]
    wait_for(lambda: view(second)["missed"] == 1, "on_missed ran")
    wait_for(lambda: len(view(first)["members"]) == 2, "the member joined again")
    # The node keeps working: changes reach it and its own reach the other node.
    made = post(first, "/api/collections", {"name": "after_loss", "type": "base"}, headers=nodes.su)
    assert made.status_code == 200, made.text
    assert httpx.get(f"{second.url}/api/collections/after_loss/records", headers=nodes.su,
                     timeout=15).status_code == 200
    changed = httpx.patch(f"{second.url}/api/settings", json={"meta": {"appName": "Again"}}, headers=nodes.su,
                          timeout=15)
    assert changed.status_code == 200
    assert get(first, "/api/settings", headers=nodes.su)["meta"]["appName"] == "Again"
    assert post(first, f"{CLUSTER}/broadcast", {"data": "still there"}).status_code == 200
    wait_for(lambda: [data for _, data in get(second, f"{CLUSTER}/received")[str(view(second)["member"])]]
             == ["still there"], "the broadcast arrived")
    assert "joined the other nodes again" in second.output()


# -- alone (no cluster backend): the same API, as cheap as before ------------------------------


async def test_without_a_backend_the_members_are_this_nodes_workers(tmp_path: Path) -> None:
    cluster = Cluster(tmp_path)
    assert cluster.member == 0
    assert cluster.members() == {0: Member(0, "", 0, cluster.members()[0].host, str(tmp_path.resolve()),
                                           os.getpid())}
    assert cluster.lead()

    async def echo(worker: int, data: bytes) -> bytes:
        return data * 2

    cluster.on_message("echo", echo)
    assert await cluster.call_member(0, "echo", b"ab") == b"abab"
    with pytest.raises(WorkerUnreachable):
        await cluster.call_member(1, "echo", b"?")
    assert [await cluster.consume("k", 2, 60) for _ in range(3)] == [True, True, False]
    await cluster.give_back("k")
    assert await cluster.consume("k", 2, 60)
    assert not await cluster.consume("k", 2, 60)
    assert cluster.nodes is None and not cluster.stale()
