"""Several ``pbk serve`` nodes on one PostgreSQL database behind HAProxy, started by a test.

``start_cluster(data_dirs, args)`` starts one node per data dir (the same dir may repeat), each
with ``args`` (give them ``--db``, or let them take ``PBK_DB``), then HAProxy over them
(``haproxy.py``). The ``Cluster`` it returns is a ``LiveServer`` whose ``url`` is HAProxy's, so a
test written for one server drives the cluster unchanged; ``nodes`` are the nodes' own servers.

``PBK_TEST_NODES=N`` (N > 1, with ``PBK_TEST_DB=postgresql``) makes every ``start_live_server``
of a test run such a cluster of N nodes on the test's data dir and database, so that an existing
suite runs against a cluster::

    PBK_TEST_DB=postgresql PBK_TEST_NODES=3 python -m pytest plugins/records/tests/test_js_sdk.py
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .haproxy import Haproxy, haproxy_path, node_name, start_haproxy
from .postgres import engine_under_test
from .servers import (
    STARTUP_TIMEOUT,
    LiveServer,
    check_port_free,
    free_port,
    serve_command,
    spawn,
    wait_until_healthy,
)


def nodes_under_test() -> int:
    """``PBK_TEST_NODES`` (default 1): how many nodes each live server of a test run is."""
    value = os.environ.get("PBK_TEST_NODES", "").strip() or "1"
    if not value.isdigit() or int(value) < 1:
        raise RuntimeError(f"PBK_TEST_NODES={value!r}: expected a number of nodes (1 or more)")
    if int(value) > 1 and engine_under_test() != "postgresql":
        raise RuntimeError(f"PBK_TEST_NODES={value} needs PBK_TEST_DB=postgresql: the nodes of a "
                           "cluster share one PostgreSQL database")
    return int(value)


def node_args(args: Sequence[str], env: dict[str, str] | None = None) -> list[str]:
    """``args`` of a node of ``PBK_TEST_NODES``: one worker unless the test asks for more
    (three nodes of one worker each already outnumber two cores)."""
    named = any(arg == "--workers" or arg.startswith("--workers=") for arg in args)
    return [*args] if named or "PBK_WORKERS" in {**os.environ, **(env or {})} else [*args, "--workers", "1"]


@dataclass
class Cluster(LiveServer):
    """Nodes behind HAProxy: ``url`` is HAProxy's; ``process``, ``data_dir`` and ``log_path`` are
    the first node's; ``output()`` and ``stop()`` cover every node."""

    nodes: list[LiveServer] = field(default_factory=list)
    balancer: Haproxy | None = None

    def output(self) -> str:
        parts = [f"--- node {node_name(i)} ({node.url}) ---\n{node.output()}"
                 for i, node in enumerate(self.nodes)]
        if self.balancer is not None:
            parts.append(f"--- haproxy ({self.balancer.url}) ---\n{self.balancer.output()}")
        return "\n".join(parts)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15.0) -> int:
        """Stop HAProxy, then every node at once (``sig``, killed after ``timeout``); returns
        the first non-zero exit code of a node, else 0."""
        if self.balancer is not None:
            self.balancer.stop()
        stop_all(self.nodes, sig, timeout)
        return next((node.process.returncode for node in self.nodes if node.process.returncode), 0)

    def kill(self, index: int) -> None:
        """SIGKILL every process of node ``index`` (from 0) at once, its workers included, as a
        crash of its machine would stop them."""
        node = self.nodes[index]
        for pid in [*descendants(node.process.pid), node.process.pid]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        node.process.wait()


def descendants(pid: int) -> list[int]:
    """The processes ``pid`` started, and theirs (from ``/proc``)."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):
            for child in (task / "children").read_text().split():
                found += [int(child), *descendants(int(child))]
    return found


def stop_all(servers: Sequence[LiveServer], sig: int, timeout: float) -> None:
    running = [server for server in servers if server.process.poll() is None]
    for server in running:
        server.process.send_signal(sig)
    deadline = time.monotonic() + timeout
    for server in running:
        try:
            server.process.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait()


def start_cluster(
    data_dirs: Sequence[Path],
    args: Sequence[str] = (),
    *,
    port: int | None = None,
    env: dict[str, str] | None = None,
    python: str = sys.executable,
    cwd: Path | None = None,
) -> Cluster:
    """One ``pbk serve`` per data dir, each with ``args``, on free ports, and HAProxy over them
    on ``port`` (default: a free one). The first node starts alone (it makes the tables of a
    new database), then the others together; raises with every output when one fails."""
    haproxy_path()  # skips before any node starts where HAProxy cannot be had
    port = free_port() if port is None else check_port_free(port)
    nodes: list[LiveServer] = []
    try:
        for index, data_dir in enumerate(data_dirs):
            node_port = free_port()
            log_path = data_dir.parent / f"pbk-serve-{node_port}.log"
            nodes.append(spawn(serve_command(python, node_port, data_dir, args), node_port, data_dir,
                               log_path, env=env, cwd=cwd))
            if index == 0:
                wait_until_healthy(nodes[0], STARTUP_TIMEOUT)
        for node in nodes[1:]:
            wait_until_healthy(node, STARTUP_TIMEOUT)
        balancer = start_haproxy([_port(node) for node in nodes], port,
                                 data_dirs[0].parent / f"haproxy-{port}")
    except BaseException as error:
        stop_all(nodes, signal.SIGKILL, 5.0)
        if not isinstance(error, Exception):
            raise
        outputs = "\n".join(f"--- node {node_name(i)} ---\n{node.output()}" for i, node in enumerate(nodes))
        raise RuntimeError(f"the cluster did not start: {error}\n{outputs}") from error
    first = nodes[0]
    return Cluster(first.process, balancer.url, first.data_dir, first.log_path, first.args,
                   nodes=nodes, balancer=balancer)


def _port(server: LiveServer) -> int:
    return int(server.url.rsplit(":", 1)[1])
