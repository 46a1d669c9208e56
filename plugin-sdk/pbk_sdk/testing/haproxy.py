"""Debian's HAProxy in front of pbk nodes, as a test's own process on a loopback port.

``start_haproxy(ports, port, folder)`` balances round-robin over the nodes listening on
``ports``: each request on its own (``http-server-close``), nodes checked on ``/api/health``
every 200 ms, a request refused by a dead node sent to another (``redispatch``), streams
(realtime) kept open for 10 minutes of silence. Each answer of a node names it in the
``X-Pbk-Node`` header (``n1``, ``n2``, ...); HAProxy's own errors (no node left, a node that
died mid-request) come in PocketBase's ``{status, message, data}`` envelope.
"""

from __future__ import annotations

import json
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from .debian import debian_program
from .servers import stop_process

HAPROXY = "/usr/sbin/haproxy"
STARTUP_TIMEOUT = 10.0
#: The errors HAProxy answers itself, with PocketBase's wording where it has one.
OWN_ERRORS = {
    502: "Bad gateway: the node failed while answering.",
    503: "Service unavailable: no node is up.",
    504: "Gateway timeout: the node did not answer in time.",
}


def haproxy_path() -> str:
    """Debian's haproxy, installed when missing."""
    return debian_program("haproxy", HAPROXY, "the cluster tests")


def node_name(index: int) -> str:
    """The name of the ``index``-th node (from 0) in HAProxy's config and ``X-Pbk-Node``."""
    return f"n{index + 1}"


def config(ports: Sequence[int], port: int, folder: Path, admin: Path) -> str:
    """The configuration: a frontend on ``port``, one backend of the nodes on ``ports``, the
    admin socket at ``admin``."""
    servers = "\n".join(
        f"    server {node_name(i)} 127.0.0.1:{p} check inter 200ms fall 1 rise 1"
        for i, p in enumerate(ports))
    errors = "\n".join(f"    errorfile {status} {folder / f'{status}.http'}" for status in OWN_ERRORS)
    return f"""\
global
    stats socket {admin} mode 600 level admin
    maxconn 2000

defaults
    mode http
    option http-server-close
    option redispatch
    retries 3
    timeout connect 2s
    timeout client 10m
    timeout server 10m
    timeout http-request 30s
{errors}

frontend pbk
    bind 127.0.0.1:{port}
    default_backend nodes

backend nodes
    balance roundrobin
    option httpchk GET /api/health
    http-response set-header X-Pbk-Node %s
{servers}
"""


def error_response(status: int, message: str) -> str:
    """A whole HTTP response (as ``errorfile`` wants it) carrying the error envelope."""
    body = json.dumps({"status": status, "message": message, "data": {}})
    reason = {502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"}[status]
    return (f"HTTP/1.0 {status} {reason}\r\nCache-Control: no-cache\r\nConnection: close\r\n"
            f"Content-Type: application/json\r\n\r\n{body}\n")


@dataclass
class Haproxy:
    """A running HAProxy; ``url`` is its frontend's base URL."""

    process: subprocess.Popen[bytes]
    url: str
    folder: Path
    admin: Path  # the admin socket, in a short path of its own (a socket's path has ~100 bytes)

    def output(self) -> str:
        return (self.folder / "haproxy.log").read_text(errors="replace")

    def command(self, line: str) -> str:
        """Run one command on the admin socket (``set server nodes/n2 state maint``)."""
        with socket.socket(socket.AF_UNIX) as sock:
            sock.connect(str(self.admin))
            sock.sendall(line.encode() + b"\n")
            answer = b""
            while chunk := sock.recv(65536):
                answer += chunk
        return answer.decode()

    def set_state(self, index: int, state: str) -> None:
        """Put node ``index`` (from 0) in ``state``: ``ready``, ``drain`` (no new requests) or
        ``maint`` (none at all, its streams closed)."""
        answer = self.command(f"set server nodes/{node_name(index)} state {state}")
        if answer.strip():
            raise RuntimeError(f"haproxy refused to set {node_name(index)} {state}: {answer}")

    def up(self) -> set[str]:
        """The names of the nodes HAProxy sends requests to now."""
        rows = self.command("show servers state nodes").splitlines()
        # "be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state ..."
        return {row.split()[3] for row in rows[2:]
                if len(row.split()) > 6 and row.split()[5] == "2" and row.split()[6] == "0"}

    def wait_up(self, count: int, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while len(self.up()) != count:
            if time.monotonic() > deadline:
                raise RuntimeError(f"haproxy sees {sorted(self.up())} up, not {count} nodes")
            time.sleep(0.05)

    def stop(self, timeout: float = 10.0) -> int:
        code = stop_process(self.process, signal.SIGTERM, timeout)
        shutil.rmtree(self.admin.parent, ignore_errors=True)
        return code


def start_haproxy(ports: Sequence[int], port: int, folder: Path) -> Haproxy:
    """HAProxy on ``127.0.0.1:port`` over the nodes on ``ports`` (all up already), its config,
    error files and log in ``folder``; returns once it sends requests to every node."""
    binary = haproxy_path()
    folder.mkdir(parents=True, exist_ok=True)
    for status, message in OWN_ERRORS.items():
        (folder / f"{status}.http").write_text(error_response(status, message))
    admin = Path(tempfile.mkdtemp(prefix="pbk-haproxy-")) / "admin.sock"
    path = folder / "haproxy.cfg"
    path.write_text(config(ports, port, folder, admin))
    with (folder / "haproxy.log").open("wb") as log:
        process = subprocess.Popen([binary, "-db", "-f", str(path)], stdout=log,
                                   stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    proxy = Haproxy(process, f"http://127.0.0.1:{port}", folder, admin)
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while not admin.exists() or not _answers(proxy):
        if process.poll() is not None:
            proxy.stop()
            raise RuntimeError(f"haproxy exited with {process.returncode}:\n{proxy.output()}")
        if time.monotonic() > deadline:
            proxy.stop()
            raise RuntimeError(f"haproxy did not start within {STARTUP_TIMEOUT}s:\n{proxy.output()}")
        time.sleep(0.05)
    proxy.wait_up(len(ports))
    return proxy


def _answers(proxy: Haproxy) -> bool:
    try:
        proxy.command("show info")
    except OSError:
        return False
    return True
