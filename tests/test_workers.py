"""``pbk serve --workers N`` end to end: a real supervisor and its forked workers.

Every check sends its requests on new TCP connections, so the kernel (SO_REUSEPORT) spreads
them over the workers, and asks the same connection which worker served it (a test plugin,
written into ``--pluginsDir``, adds ``GET /api/_test/whoami``), so each test asserts that both
workers took part instead of trusting the odds. Realtime client ids name their worker in their
first two characters (decoded here independently of the product, from the documented scheme).
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import re
import secrets
import signal
import socket
import ssl
import string
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from pbk_sdk.testing import LiveServer, free_port
from pbk_sdk.testing.workers import WHOAMI, write_whoami_plugin

PLUGINS = "records,auth,realtime,settings"
SUPERUSER = ("root@example.com", "su-password-123")
USER = ("ada@example.com", "ada-password-123")
SUPERUSERS_ONLY = "Only superusers can perform this action."
AUTH_MISMATCH = "The current and the previous request authorization don't match."
UNKNOWN_CLIENT = "Missing or invalid client id."
#: Fresh connections tried to reach one given worker before giving up (each has even odds).
PIN_ATTEMPTS = 64
REPEAT = 20


ALPHABET = string.ascii_letters + string.digits


def banner_workers(output: str, url: str) -> int | None:
    """The worker count the start-up banner announces on its ``└─ Workers: N processes`` line."""
    match = re.search(
        rf"^Server started at {re.escape(url)}\n├─ REST API: .*\n(?:├─ .*\n)*└─ Workers: +(\d+) processes$", output, re.MULTILINE)
    return int(match.group(1)) if match else None


def worker_of(client_id: str) -> int:
    """The worker a realtime client id names: (high, low) characters -> high * 62 + low."""
    high, low = (ALPHABET.index(c) for c in client_id[:2])
    return high * len(ALPHABET) + low


def client_id_on(worker: int) -> str:
    """A well-formed client id (40 characters) naming ``worker``, held by nobody."""
    high, low = divmod(worker, len(ALPHABET))
    return ALPHABET[high] + ALPHABET[low] + "".join(secrets.choice(ALPHABET) for _ in range(38))


# -- processes --------------------------------------------------------------------------------


def children(pid: int) -> set[int]:
    """The live (not zombie) child processes of ``pid``, from /proc/*/stat."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # it exited meanwhile
        state, ppid = stat[stat.rindex(")") + 2 :].split()[:2]
        if int(ppid) == pid and state != "Z":
            found.add(int(entry.name))
    return found


def wait_for(predicate: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.05)


@dataclass
class Server(LiveServer):
    """A ``pbk serve --workers`` process started in its own session."""

    port: int = 0
    su: dict[str, str] = field(default_factory=dict)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15.0) -> int:
        super().stop(sig, timeout)
        # Safety net: whatever is left of this server's own session (its workers, should the
        # supervisor have failed to stop them).
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)
        return self.process.returncode


def serve_command(data_dir: Path, port: int, plugins_dir: Path, workers: str | None = "2") -> list[str]:
    command = [sys.executable, "-m", "pbk", "serve", "--dir", str(data_dir), "--http", f"127.0.0.1:{port}",
               "--plugins", PLUGINS, "--pluginsDir", str(plugins_dir)]
    return command + (["--workers", workers] if workers is not None else [])


def start_server(root: Path, *, workers: str | None = "2", env: dict[str, str] | None = None,
                 expected_workers: int = 2, superuser: bool = True) -> Server:
    """``pbk serve --workers`` in its own session; returns once every worker answers."""
    plugins_dir = root / "plugins"
    write_whoami_plugin(plugins_dir)
    data_dir = root / "pb_data"
    if superuser:
        done = subprocess.run(
            [sys.executable, "-m", "pbk", "--plugins", PLUGINS, "--dir", str(data_dir), "superuser", "upsert",
             *SUPERUSER], capture_output=True, text=True, timeout=60, check=False)
        assert done.returncode == 0, done.stdout + done.stderr
    port = free_port()
    log_path = root / f"serve-{port}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            serve_command(data_dir, port, plugins_dir, workers), stdout=log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, env={**os.environ, **(env or {})}, start_new_session=True)
    server = Server(process, f"http://127.0.0.1:{port}", data_dir, log_path, port=port)
    try:
        deadline = time.monotonic() + 30
        seen: set[int] = set()
        while seen != set(range(expected_workers)):
            if process.poll() is not None:
                raise AssertionError(f"pbk serve exited with {process.returncode}:\n{server.output()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"workers {sorted(seen)} of {expected_workers} answered:\n{server.output()}")
            try:
                seen.add(whoami(server.url)["worker"])
            except httpx.TransportError:
                time.sleep(0.05)
        if superuser:
            token = httpx.post(f"{server.url}/api/collections/_superusers/auth-with-password",
                               json={"identity": SUPERUSER[0], "password": SUPERUSER[1]}, timeout=15)
            assert token.status_code == 200, token.text
            server.su = {"Authorization": token.json()["token"]}
    except BaseException:
        server.stop(signal.SIGKILL)
        raise
    return server


# -- requests, each on a connection of its own -------------------------------------------------


#: Plain HTTP only, but httpx builds a TLS context per client unless given one (tens of ms).
TLS = ssl.create_default_context()


def new_client(url: str) -> httpx.Client:
    return httpx.Client(base_url=url, timeout=15.0, verify=TLS)


def local_port(response: httpx.Response) -> int:
    return int(response.extensions["network_stream"].get_extra_info("client_addr")[1])


def whoami(url: str) -> dict[str, Any]:
    with new_client(url) as client:
        answer = client.get(WHOAMI)
    assert answer.status_code == 200, answer.text
    return answer.json()


def call(url: str, method: str, path: str, **kwargs: Any) -> tuple[int, httpx.Response]:
    """``method path`` as the first request of a new connection, then ask that same connection
    which worker served it: ``(worker, response)``."""
    with new_client(url) as client:
        response = client.request(method, path, **kwargs)
        port = local_port(response)
        who = client.get(WHOAMI)
        assert local_port(who) == port, "the worker probe went over another connection"
    return who.json()["worker"], response


@contextlib.contextmanager
def on_worker(url: str, worker: int) -> Iterator[httpx.Client]:
    """A client whose (kept-alive) connection is served by ``worker``."""
    for _ in range(PIN_ATTEMPTS):
        client = new_client(url)
        who = client.get(WHOAMI)
        if who.json()["worker"] == worker:
            port = local_port(who)
            try:
                yield client
                # Every request went over the pinned connection (none was closed and reopened).
                assert local_port(client.get(WHOAMI)) == port
            finally:
                client.close()
            return
        client.close()
    raise AssertionError(f"no connection reached worker {worker} in {PIN_ATTEMPTS} tries")


def worker_pids(url: str, workers: int = 2) -> dict[int, int]:
    pids: dict[int, int] = {}
    for _ in range(PIN_ATTEMPTS * workers):
        who = whoami(url)
        pids[who["worker"]] = who["pid"]
        if len(pids) == workers:
            return pids
    raise AssertionError(f"only workers {sorted(pids)} answered")


# -- realtime ---------------------------------------------------------------------------------


class Stream:
    """``GET /api/realtime`` on a connection of its own, read by a thread; (event, data) pairs
    land in ``events``. ``close()`` shuts the socket down, which ends the read at once."""

    def __init__(self, url: str) -> None:
        self.events: queue.Queue[tuple[str, Any]] = queue.Queue()
        self.ended = threading.Event()
        self.error: BaseException | None = None
        self._socket: socket.socket | None = None
        self._thread = threading.Thread(target=self._run, args=(url,), daemon=True)
        self._thread.start()
        try:
            event, data = self.events.get(timeout=15)
        except queue.Empty:
            raise AssertionError(f"no PB_CONNECT (stream error: {self.error!r})") from None
        assert event == "PB_CONNECT", (event, data)
        self.client_id: str = data["clientId"]
        self.worker = worker_of(self.client_id)

    def _run(self, url: str) -> None:
        try:
            with httpx.Client(timeout=httpx.Timeout(15.0, read=None), verify=TLS) as client, \
                    client.stream("GET", f"{url}/api/realtime") as response:
                assert response.status_code == 200
                self._socket = response.extensions["network_stream"].get_extra_info("socket")
                buffer = b""
                for chunk in response.iter_raw():
                    buffer += chunk
                    while b"\n\n" in buffer:
                        block, buffer = buffer.split(b"\n\n", 1)
                        fields = dict(line.split(":", 1) for line in block.decode().splitlines()
                                      if line and not line.startswith(":"))
                        if fields:
                            self.events.put((fields.get("event", ""), json.loads(fields.get("data", "null"))))
        except Exception as exc:  # noqa: BLE001 - the server or close() ended the stream
            self.error = exc
        finally:
            self.ended.set()

    def close(self) -> None:
        if self._socket is not None:
            with contextlib.suppress(OSError):
                self._socket.shutdown(socket.SHUT_RDWR)
        self._thread.join(5)

    def drain(self, until: Callable[[list[tuple[str, Any]]], bool], timeout: float) -> list[tuple[str, Any]]:
        """Every event received until ``until(events)`` holds (or ``timeout``)."""
        got: list[tuple[str, Any]] = []
        deadline = time.monotonic() + timeout
        while not until(got):
            left = deadline - time.monotonic()
            if left <= 0:
                break
            try:
                got.append(self.events.get(timeout=min(left, 0.1)))
            except queue.Empty:
                pass
        return got


@contextlib.contextmanager
def streams_on_every_worker(url: str, per_worker: int = 1, workers: int = 2) -> Iterator[list[Stream]]:
    """Open streams until each worker holds at least ``per_worker`` of them."""
    opened: list[Stream] = []
    try:
        for _ in range(PIN_ATTEMPTS * per_worker):
            held = Counter(stream.worker for stream in opened)
            if all(held[w] >= per_worker for w in range(workers)):
                break
            opened.append(Stream(url))
        held = Counter(stream.worker for stream in opened)
        assert set(held) <= set(range(workers)), f"client ids name workers {sorted(held)}"
        assert all(held[w] >= per_worker for w in range(workers)), f"streams per worker: {held}"
        yield opened
    finally:
        for stream in opened:
            stream.close()


def subscribe(client: httpx.Client, client_id: str, topics: list[str],
              headers: dict[str, str] | None = None) -> httpx.Response:
    return client.post("/api/realtime", json={"clientId": client_id, "subscriptions": topics}, headers=headers or {})


def create_collection(server: Server, body: dict[str, Any], worker: int = 0) -> dict[str, Any]:
    with on_worker(server.url, worker) as client:
        created = client.post("/api/collections", headers=server.su, json=body)
    assert created.status_code == 200, created.text
    return created.json()


def assert_each_event_once(streams: list[Stream], topic: str, ids: list[str]) -> None:
    """Every stream gets a create event for each of ``ids`` exactly once, and nothing else."""
    received = {id(stream): stream.drain(lambda events: len(events) >= len(ids), timeout=10) for stream in streams}
    time.sleep(0.3)  # a late duplicate would arrive meanwhile
    for stream in streams:
        events = received[id(stream)] + stream.drain(lambda _: False, timeout=0.01)
        got = Counter(data["record"]["id"] for _, data in events)
        assert got == Counter(ids), (
            f"stream on worker {stream.worker}: missing {sorted(set(ids) - set(got))}, "
            f"duplicated {sorted(i for i, n in got.items() if n > 1)}, unexpected {sorted(set(got) - set(ids))}"
        )
        assert {(event, data["action"]) for event, data in events} == {(topic, "create")}


# -- the shared server ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = start_server(tmp_path_factory.mktemp("workers"))
    try:
        yield server
    finally:
        server.stop()


def test_two_workers_really_run(cluster: Server) -> None:
    assert banner_workers(cluster.output(), cluster.url) == 2, cluster.output()
    assert cluster.output().count("Server started") == 1, "one banner for all the workers"
    running = children(cluster.process.pid)
    assert len(running) == 2, running
    pids = worker_pids(cluster.url)
    assert set(pids.values()) == running, "the workers answering are the supervisor's two children"
    assert whoami(cluster.url)["workers"] == 2


def test_a_new_collection_its_rules_and_its_removal_reach_every_worker(cluster: Server) -> None:
    for creator in (0, 1):
        name = f"schema_w{creator}"
        create_collection(cluster, {"name": name, "type": "base", "listRule": "", "createRule": "",
                                    "fields": [{"name": "title", "type": "text"}]}, worker=creator)
        workers: Counter[int] = Counter()
        for i in range(REPEAT):
            worker, created = call(cluster.url, "POST", f"/api/collections/{name}/records", json={"title": f"t{i}"})
            assert created.status_code == 200, (worker, created.text)
            workers[worker] += 1
            worker, listed = call(cluster.url, "GET", f"/api/collections/{name}/records?perPage=500")
            assert listed.status_code == 200, (worker, listed.text)
            assert listed.json()["totalItems"] == i + 1, f"worker {worker} misses a committed record"
            workers[worker] += 1
        assert set(workers) == {0, 1}, workers

    # A rule made stricter on one worker is enforced by both; made looser, likewise.
    for changer in (0, 1):
        name = f"schema_w{changer}"
        with on_worker(cluster.url, changer) as client:
            patched = client.patch(f"/api/collections/{name}", headers=cluster.su, json={"listRule": None})
            assert patched.status_code == 200 and patched.json()["listRule"] is None, patched.text
        refused = [call(cluster.url, "GET", f"/api/collections/{name}/records") for _ in range(REPEAT)]
        assert {worker for worker, _ in refused} == {0, 1}
        for worker, response in refused:
            assert response.status_code == 403, (worker, response.text)
            assert response.json()["message"] == SUPERUSERS_ONLY
        with on_worker(cluster.url, 1 - changer) as client:
            patched = client.patch(f"/api/collections/{name}", headers=cluster.su, json={"listRule": ""})
            assert patched.status_code == 200, patched.text
        allowed = [call(cluster.url, "GET", f"/api/collections/{name}/records") for _ in range(REPEAT)]
        assert {worker for worker, _ in allowed} == {0, 1}
        assert [(w, r.status_code) for w, r in allowed] == [(w, 200) for w, _ in allowed]

    # A deleted collection is gone for both.
    with on_worker(cluster.url, 1) as client:
        assert client.delete("/api/collections/schema_w0", headers=cluster.su).status_code == 204
    gone = [call(cluster.url, "GET", "/api/collections/schema_w0/records", headers=cluster.su)
            for _ in range(REPEAT)]
    assert {worker for worker, _ in gone} == {0, 1}
    assert [(w, r.status_code) for w, r in gone] == [(w, 404) for w, _ in gone]


def test_settings_changes_reach_every_worker(cluster: Server) -> None:
    for changer in (0, 1):
        app_name = f"Cluster app {changer} {uuid.uuid4().hex[:6]}"
        with on_worker(cluster.url, changer) as client:
            patched = client.patch("/api/settings", headers=cluster.su, json={"meta": {"appName": app_name}})
            assert patched.status_code == 200, patched.text
            assert patched.json()["meta"]["appName"] == app_name
        answers = [call(cluster.url, "GET", "/api/settings", headers=cluster.su) for _ in range(REPEAT)]
        assert {worker for worker, _ in answers} == {0, 1}
        for worker, response in answers:
            assert response.status_code == 200, (worker, response.text)
            assert response.json()["meta"]["appName"] == app_name, f"worker {worker} has stale settings"

    # Settings read by a plugin (records' batch API), not only echoed back.
    create_collection(cluster, {"name": "batched", "type": "base", "createRule": "",
                                "fields": [{"name": "title", "type": "text"}]})
    batch = {"requests": [{"method": "POST", "url": "/api/collections/batched/records", "body": {"title": "b"}}]}
    for enabled, status in ((True, 200), (False, 403)):
        with on_worker(cluster.url, 1 if enabled else 0) as client:
            patched = client.patch("/api/settings", headers=cluster.su, json={"batch": {"enabled": enabled}})
            assert patched.status_code == 200, patched.text
        answers = [call(cluster.url, "POST", "/api/batch", json=batch) for _ in range(REPEAT)]
        assert {worker for worker, _ in answers} == {0, 1}
        assert [(w, r.status_code) for w, r in answers] == [(w, status) for w, _ in answers], \
            [r.text for _, r in answers if r.status_code != status][:1]


def test_record_events_reach_every_stream_on_every_worker_exactly_once(cluster: Server) -> None:
    create_collection(cluster, {"name": "rt_items", "type": "base", "listRule": "", "viewRule": "",
                                "fields": [{"name": "title", "type": "text", "max": 1_000_000}]})
    with streams_on_every_worker(cluster.url, per_worker=2) as streams:
        # Per owner: the first subscription is posted to the owner, the next to the other
        # worker (forwarded through the supervisor), and so on.
        posted: Counter[int] = Counter()
        forwarded = 0
        for stream in streams:
            target = stream.worker if posted[stream.worker] % 2 == 0 else 1 - stream.worker
            posted[stream.worker] += 1
            forwarded += target != stream.worker
            with on_worker(cluster.url, target) as client:
                answer = subscribe(client, stream.client_id, ["rt_items/*"])
            assert answer.status_code == 204, answer.text
        assert forwarded >= 2

        def create(worker: int, title: str) -> str:
            with on_worker(cluster.url, worker) as client:
                created = client.post("/api/collections/rt_items/records", headers=cluster.su, json={"title": title})
            assert created.status_code == 200, created.text
            return str(created.json()["id"])

        # Made on alternate workers; one event is larger than the relay reads at once.
        ids = [create(i % 2, "x" * 300_000 if i == 3 else f"r{i}") for i in range(10)]
        assert_each_event_once(streams, "rt_items/*", ids)

        # The list rule, changed on one worker, decides what the streams of both get. Records
        # made on one worker reach every stream in the order they were made, so once the
        # visible one arrived, the hidden one would have arrived before it.
        for origin in (0, 1):
            with on_worker(cluster.url, 1 - origin) as client:
                assert client.patch("/api/collections/rt_items", headers=cluster.su,
                                    json={"listRule": None}).status_code == 200
            hidden = create(origin, "hidden")
            with on_worker(cluster.url, 1 - origin) as client:
                assert client.patch("/api/collections/rt_items", headers=cluster.su,
                                    json={"listRule": ""}).status_code == 200
            visible = create(origin, "visible")
            for stream in streams:
                events = stream.drain(lambda got, visible=visible: any(d["record"]["id"] == visible for _, d in got),
                                      timeout=10)
                assert [d["record"]["id"] for _, d in events] == [visible], (
                    f"stream on worker {stream.worker}; the hidden record was {hidden}")


def test_changes_made_on_alternate_workers_reach_every_stream_in_the_order_they_were_made(cluster: Server) -> None:
    # A change made on the worker that holds a stream reaches it quicker than one relayed
    # through the supervisor: without the shared numbering, the later local one overtook it.
    create_collection(cluster, {"name": "rt_order", "type": "base", "listRule": "", "viewRule": "",
                                "fields": [{"name": "n", "type": "number"}]})
    with streams_on_every_worker(cluster.url) as streams:
        for stream in streams:
            with on_worker(cluster.url, stream.worker) as client:
                assert subscribe(client, stream.client_id, ["rt_order/*"]).status_code == 204
        with on_worker(cluster.url, 0) as first, on_worker(cluster.url, 1) as second:
            made = first.post("/api/collections/rt_order/records", headers=cluster.su, json={"n": 0})
            assert made.status_code == 200, made.text
            record = made.json()["id"]
            for n in range(1, 41):
                answer = (first, second)[n % 2].patch(f"/api/collections/rt_order/records/{record}",
                                                      headers=cluster.su, json={"n": n})
                assert answer.status_code == 200, answer.text
        for stream in streams:
            events = stream.drain(lambda got: len(got) >= 41, timeout=10)
            assert [data["record"]["n"] for _, data in events] == list(range(41)), f"stream on worker {stream.worker}"


def test_a_subscription_for_an_unknown_client_on_another_worker_is_a_404(cluster: Server) -> None:
    with streams_on_every_worker(cluster.url):  # both workers hold a client: a real lookup happens
        for here in (0, 1):
            with on_worker(cluster.url, here) as client:
                for named in (1 - here, here, 7):  # the other worker, this one, one that does not exist
                    answer = subscribe(client, client_id_on(named), ["rt_items/*"])
                    assert answer.status_code == 404, (here, named, answer.text)
                    assert answer.json()["message"] == UNKNOWN_CLIENT


def test_a_client_bound_to_one_auth_refuses_another_on_every_worker(cluster: Server) -> None:
    registered = httpx.post(f"{cluster.url}/api/collections/users/records", timeout=15,
                            json={"email": USER[0], "password": USER[1], "passwordConfirm": USER[1]})
    assert registered.status_code == 200, registered.text
    signed_in = httpx.post(f"{cluster.url}/api/collections/users/auth-with-password", timeout=15,
                           json={"identity": USER[0], "password": USER[1]})
    assert signed_in.status_code == 200, signed_in.text
    user = {"Authorization": signed_in.json()["token"]}

    with streams_on_every_worker(cluster.url) as streams:
        for stream in streams[:1] + [s for s in streams if s.worker != streams[0].worker][:1]:
            owner, other = stream.worker, 1 - stream.worker
            # Bound to the user through the worker that does not hold the stream (forwarded).
            with on_worker(cluster.url, other) as client:
                assert subscribe(client, stream.client_id, ["rt_items/*"], user).status_code == 204
            for worker in (owner, other):
                with on_worker(cluster.url, worker) as client:
                    for auth in (cluster.su, None):
                        refused = subscribe(client, stream.client_id, ["rt_items/*"], auth)
                        assert refused.status_code == 403, (owner, worker, refused.text)
                        assert refused.json()["message"] == AUTH_MISMATCH
                    # The same user is still accepted, whichever worker it posts to.
                    assert subscribe(client, stream.client_id, ["rt_items/*"], user).status_code == 204


def test_concurrent_increments_from_every_worker_are_all_kept(cluster: Server) -> None:
    create_collection(cluster, {"name": "counters", "type": "base",
                                "fields": [{"name": "n", "type": "number"}]})
    created = httpx.post(f"{cluster.url}/api/collections/counters/records", headers=cluster.su,
                         json={"n": 0}, timeout=15)
    assert created.status_code == 200, created.text
    record = f"/api/collections/counters/records/{created.json()['id']}"
    start = threading.Barrier(40)

    def increment(_: int) -> tuple[int, httpx.Response]:
        start.wait(15)
        return call(cluster.url, "PATCH", record, headers=cluster.su, json={"n+": 1})

    with ThreadPoolExecutor(40) as pool:
        results = list(pool.map(increment, range(40)))
    failed = [(worker, r.status_code, r.text) for worker, r in results if r.status_code != 200]
    assert not failed, failed
    assert {worker for worker, _ in results} == {0, 1}
    # Each increment saw the one before it: the values returned are 1..40, each once.
    assert sorted(r.json()["n"] for _, r in results) == list(range(1, 41))
    for _ in range(4):
        worker, final = call(cluster.url, "GET", record, headers=cluster.su)
        assert final.status_code == 200 and final.json()["n"] == 40, (worker, final.text)


def test_otp_attempts_are_limited_across_workers(cluster: Server) -> None:
    """Five wrong codes per record in three minutes, whichever workers the guesses reach (each
    record's counter is kept by one worker, which the others ask)."""
    create_collection(cluster, {"name": "otpusers", "type": "auth", "otp": {"enabled": True, "duration": 180}})
    user = httpx.post(f"{cluster.url}/api/collections/otpusers/records", headers=cluster.su, timeout=15,
                      json={"email": "otp@example.com", "password": "a-long-password", "passwordConfirm": "a-long-password"})
    assert user.status_code == 200, user.text
    requested = httpx.post(f"{cluster.url}/api/collections/otpusers/request-otp", json={"email": "otp@example.com"},
                           timeout=15)
    assert requested.status_code == 200, requested.text
    guess = {"otpId": requested.json()["otpId"], "password": "00000000"}
    statuses: list[tuple[int, int]] = []
    for attempt in range(8):
        with on_worker(cluster.url, attempt % 2) as client:
            statuses.append((attempt % 2, client.post("/api/collections/otpusers/auth-with-otp", json=guess).status_code))
    assert [status for _, status in statuses] == [400] * 5 + [429] * 3, statuses


def test_a_second_server_cannot_take_over_a_port_the_workers_serve(cluster: Server, tmp_path: Path) -> None:
    """Expected: like any server (and like ``pbk serve`` with one worker), a second server on a
    port that is already served fails with "address already in use"."""
    log_path = tmp_path / "second.log"
    plugins_dir = tmp_path / "plugins"
    plugins_dir.mkdir()
    with log_path.open("wb") as log:
        second = subprocess.Popen(serve_command(tmp_path / "other_data", cluster.port, plugins_dir),
                                  stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                  start_new_session=True)
    try:
        wait_for(lambda: second.poll() is not None or "Server started" in log_path.read_text(), 20,
                 "the second server to exit or to start")
    finally:
        if second.poll() is None:
            second.terminate()
            second.wait(15)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(second.pid, signal.SIGKILL)
    output = log_path.read_text()
    assert "Server started" not in output, "a second server now shares the port with the first one"
    assert second.returncode == 1, output
    assert "already in use" in output


def test_requests_arriving_while_a_worker_reloads_wait_for_the_new_schema(cluster: Server) -> None:
    """cluster.py: "requests that arrive meanwhile wait for it" (for the reload)."""
    for attempt in range(10):
        with contextlib.ExitStack() as stack:
            # Kept-alive connections to worker 1, past their first request: ready to go at once.
            pinned = [stack.enter_context(on_worker(cluster.url, 1)) for _ in range(16)]
            name = f"reload_race_{attempt}"
            create_collection(cluster, {"name": name, "type": "base", "listRule": "",
                                        "fields": [{"name": "title", "type": "text"}]}, worker=0)
            start = threading.Barrier(len(pinned))

            def list_records(client: httpx.Client, start: threading.Barrier = start, name: str = name) -> int:
                start.wait(15)
                return client.get(f"/api/collections/{name}/records").status_code

            with ThreadPoolExecutor(len(pinned)) as pool:
                statuses = list(pool.map(list_records, pinned))
            assert statuses == [200] * len(pinned), f"attempt {attempt}: {statuses}"


def test_a_killed_worker_is_replaced_and_serves_current_state(cluster: Server) -> None:
    """(Runs last on the shared server: it replaces worker 0.)"""
    before = children(cluster.process.pid)
    pids = worker_pids(cluster.url)
    assert set(pids.values()) == before and len(before) == 2
    create_collection(cluster, {"name": "before_kill", "type": "base", "listRule": "", "viewRule": "",
                                "createRule": "", "fields": [{"name": "title", "type": "text"}]}, worker=0)

    victim = pids[0]
    os.kill(victim, signal.SIGKILL)
    def replaced() -> set[int] | None:
        running = children(cluster.process.pid)
        return running if len(running) == 2 and victim not in running else None

    now = wait_for(replaced, 10, "a new worker to replace the killed one")
    assert now & before == {pids[1]}, "the other worker goes on"
    (replacement,) = now - before

    answers = [call(cluster.url, "GET", "/api/health") for _ in range(REPEAT)]
    assert [(w, r.status_code) for w, r in answers] == [(w, 200) for w, _ in answers]
    assert {worker for worker, _ in answers} == {0, 1}
    assert worker_pids(cluster.url) == {0: replacement, 1: pids[1]}
    assert f"pid {victim}" in cluster.output(), "the supervisor says which worker it replaced"

    # The replacement knows the schema and takes part in realtime like the one it replaced.
    listed = [call(cluster.url, "GET", "/api/collections/before_kill/records") for _ in range(REPEAT)]
    assert [(w, r.status_code) for w, r in listed] == [(w, 200) for w, _ in listed]
    with streams_on_every_worker(cluster.url) as streams:
        for stream in streams:
            with on_worker(cluster.url, 1 - stream.worker) as client:
                assert subscribe(client, stream.client_id, ["before_kill/*"]).status_code == 204
        ids = []
        for worker in (0, 1):
            with on_worker(cluster.url, worker) as client:
                created = client.post("/api/collections/before_kill/records", json={"title": f"after {worker}"})
            assert created.status_code == 200, created.text
            ids.append(created.json()["id"])
        assert_each_event_once(streams, "before_kill/*", ids)


# -- servers of their own ---------------------------------------------------------------------


@pytest.mark.parametrize("how", ["SIGTERM to the supervisor", "SIGINT to the process group (Ctrl-C)"])
def test_a_signal_stops_every_worker_gracefully(tmp_path: Path, how: str) -> None:
    """Started with ``PBK_WORKERS=auto`` (one worker per CPU this process may run on), or with
    2 where that would be a single process (one CPU)."""
    cpus = len(os.sched_getaffinity(0))
    setting = "auto" if cpus >= 2 else "2"
    cpus = max(cpus, 2)
    server = start_server(tmp_path, workers=None, env={"PBK_WORKERS": setting}, expected_workers=cpus,
                          superuser=False)
    try:
        assert banner_workers(server.output(), server.url) == cpus, server.output()
        workers = children(server.process.pid)
        assert len(workers) == cpus
        with streams_on_every_worker(server.url, workers=cpus) as streams:  # open streams end too
            if how.startswith("SIGTERM"):
                server.process.send_signal(signal.SIGTERM)
            else:
                os.killpg(server.process.pid, signal.SIGINT)
            code = server.process.wait(10)
            assert code == 0, server.output()
            for stream in streams:
                assert stream.ended.wait(5), f"the stream on worker {stream.worker} is still open"
        left = [pid for pid in workers if Path(f"/proc/{pid}").exists()]
        assert not left, f"workers still there after the supervisor exited: {left}"
        assert "Traceback" not in server.output(), server.output()
    finally:
        server.stop(signal.SIGKILL)


@pytest.mark.parametrize(("source", "value"), [("flag", "0"), ("flag", "abc"), ("environment", "-2")])
def test_an_invalid_worker_count_is_refused(tmp_path: Path, value: str, source: str) -> None:
    args = ["--workers", value] if source == "flag" else []
    done = subprocess.run(
        [sys.executable, "-m", "pbk", "serve", "--dir", str(tmp_path / "pb_data"), "--http",
         f"127.0.0.1:{free_port()}", "--plugins", "records", *args],
        capture_output=True, text=True, timeout=60, check=False,
        env={**os.environ, "PBK_WORKERS": value if source == "environment" else "2"})
    assert done.returncode != 0
    assert f"Invalid value for --workers: expected a positive number or 'auto', got '{value}'" in done.stderr
    assert not (tmp_path / "pb_data").exists(), "nothing may be created when the start fails"


def test_too_many_workers_is_refused(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pbk", "serve", "--dir", str(tmp_path / "pb_data"), "--http",
         f"127.0.0.1:{free_port()}", "--plugins", "records", "--workers", "257"],
        capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == ["Error: --workers must be between 1 and 256"]


@pytest.mark.parametrize("workers", ["1", "2"])
def test_an_address_in_use_is_one_clear_error(tmp_path: Path, workers: str) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "pbk", "serve", "--dir", str(tmp_path / "pb_data"), "--http",
             f"127.0.0.1:{port}", "--plugins", "records", "--workers", workers],
            capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 1, done.stdout + done.stderr
    assert done.stderr.strip() == f"Error: cannot listen on 127.0.0.1:{port}: the address is already in use"
    assert "Traceback" not in done.stderr and "Server started" not in done.stdout
