"""``pbk serve`` in a subprocess under uvicorn, on a free or a chosen loopback port."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from .commands import config_flags
from .extra import require

STARTUP_TIMEOUT = 20.0


def free_port() -> int:
    """A loopback port nothing listens on (the OS picks it)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def check_port_free(port: int) -> int:
    """``port``, once sure nothing listens on it: a server already there would answer the
    health check in place of the one just started (which then dies unseen)."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            sock.bind(("127.0.0.1", port))
        except OSError as error:
            raise RuntimeError(f"cannot serve on 127.0.0.1:{port}: {error}") from error
    return port


@dataclass
class LiveServer:
    """A ``pbk serve`` process; ``url`` is its base URL."""

    process: subprocess.Popen[bytes]
    url: str
    data_dir: Path
    log_path: Path
    args: list[str] = field(default_factory=list)

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15.0) -> int:
        """Send ``sig`` and wait; returns the exit code (kills it after ``timeout``)."""
        return stop_process(self.process, sig, timeout)


def stop_process(process: subprocess.Popen[bytes], sig: int, timeout: float) -> int:
    """Send ``sig`` to ``process`` unless it ended, wait (killing it after ``timeout``); its
    exit code."""
    if process.poll() is None:
        process.send_signal(sig)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return process.returncode


def start_live_server(
    data_dir: Path,
    args: Sequence[str] = (),
    *,
    port: int | None = None,
    env: dict[str, str] | None = None,
    python: str = sys.executable,
    cwd: Path | None = None,
) -> LiveServer:
    """Run ``python -m pbk serve`` on ``port`` (default: a free one) and wait until
    ``/api/health`` answers; raises ``RuntimeError`` if ``port`` is taken.

    With ``PBK_TEST_NODES=N`` (N > 1, under ``PBK_TEST_DB=postgresql``) this is a cluster: N
    nodes on ``data_dir`` and one database behind HAProxy on ``port`` (see ``cluster_servers.py``)."""
    if python == sys.executable:
        require("pbk", "start_live_server")  # fail with the install hint, not a dead process
    args = [*args, *data_dir_database(data_dir, args, env)]
    from .cluster_servers import node_args, nodes_under_test, start_cluster  # (builds on this)

    if (nodes := nodes_under_test()) > 1:
        return start_cluster([data_dir] * nodes, node_args(args, env), port=port, env=env,
                             python=python, cwd=cwd)
    port = free_port() if port is None else check_port_free(port)
    log_path = data_dir.parent / f"pbk-serve-{port}.log"
    return launch(serve_command(python, port, data_dir, args), port, data_dir, log_path,
                  env=env, cwd=cwd)


def serve_command(python: str, port: int, data_dir: Path, args: Sequence[str]) -> list[str]:
    return [python, "-m", "pbk", "serve", "--http", f"127.0.0.1:{port}", "--dir", str(data_dir),
            *args]


def data_dir_database(data_dir: Path, args: Sequence[str], env: dict[str, str] | None) -> list[str]:
    """``["--db", URL]`` when the test made ``data_dir`` a database of its own
    (``postgres.database_for``) and names none: the server then serves what the test's own
    ``pbk`` commands (given that ``--db``) wrote, not its scope's ``PBK_DB``."""
    if any(arg == "--db" or arg.startswith("--db=") for arg in args) or "PBK_DB" in (env or {}):
        return []
    from .postgres import made_for

    url = made_for(data_dir)
    return ["--db", url] if url else []


def launch(
    command: list[str],
    port: int,
    data_dir: Path,
    log_path: Path,
    *,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float = STARTUP_TIMEOUT,
) -> LiveServer:
    """Start a server process (pbk or PocketBase) logging to ``log_path`` and wait until
    ``/api/health`` answers on ``port``; raises with the server's output if it never does."""
    return wait_until_healthy(spawn(command, port, data_dir, log_path, env=env, cwd=cwd), timeout)


def spawn(
    command: list[str],
    port: int,
    data_dir: Path,
    log_path: Path,
    *,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
) -> LiveServer:
    """Start a server process logging to ``log_path``, without waiting for it."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, **(env or {})},
            cwd=cwd,
        )
    return LiveServer(process, f"http://127.0.0.1:{port}", data_dir, log_path, command)


def wait_until_healthy(server: LiveServer, timeout: float = STARTUP_TIMEOUT) -> LiveServer:
    """``server`` once ``/api/health`` answers 200; raises with its output if it exits or
    never does (and kills it then)."""
    httpx = require("httpx", "starting a live server")
    name = server.args[0] if server.args else "the server"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"{name} exited with {server.process.returncode}:\n{server.output()}")
        try:
            if httpx.get(f"{server.url}/api/health", timeout=1.0).status_code == 200:
                return server
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    server.stop(signal.SIGKILL)
    raise RuntimeError(f"{name} did not answer within {timeout}s:\n{server.output()}")


@pytest.fixture
def live_server_factory(tmp_path: Path) -> Iterator[Callable[..., LiveServer]]:
    """Start as many ``pbk serve`` processes as a test needs; all are stopped afterwards.

    ``live_server_factory(args=(), *, port=None, data_dir=None, env=None)``: ``port`` picks
    the port (default: a free one), the data dir defaults to ``tmp_path / "pb_data"``.
    """
    servers: list[LiveServer] = []

    def start(
        args: Sequence[str] = (), *, data_dir: Path | None = None, **kwargs: Any
    ) -> LiveServer:
        server = start_live_server(data_dir or tmp_path / "pb_data", args, **kwargs)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def pbk_live_port() -> int | None:
    """The port ``live_server`` listens on; ``None`` (the default) takes a free one. Override
    it in a ``conftest.py`` when a client needs a fixed address (an OAuth2 redirect, say)."""
    return None


@pytest.fixture
def live_server(
    live_server_factory: Callable[..., LiveServer],
    pbk_config: dict[str, Any],
    pbk_live_port: int | None,
) -> LiveServer:
    """``pbk serve`` with ``pbk_config`` (data dir, plugins, options) on ``pbk_live_port``
    (default: a free loopback port); a key no flag carries fails the test."""
    _, data_dir, *args = config_flags(pbk_config, "the live_server fixture", serving=True)
    return live_server_factory(args, data_dir=Path(data_dir), port=pbk_live_port)
