"""pytest fixtures for pbk and its plugins (registered as the ``pbk`` pytest plugin).

Everything is real: a temp data dir with real SQLite files, the app built by the kernel with
an explicit plugin list, falcon's ``ASGIConductor`` for in-process requests (one lifespan per
test), and ``live_server`` running ``pbk serve`` under uvicorn in a subprocess on a free
loopback port. Override ``pbk_plugins`` (and ``pbk_config``) in your ``conftest.py``::

    @pytest.fixture
    def pbk_plugins():
        return ["records", "my_plugin"]
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from .js import js_sdk  # noqa: F401  (a fixture of this pytest plugin)

STARTUP_TIMEOUT = 20.0


@pytest.fixture
def pbk_plugins() -> Sequence[str] | None:
    """The plugins the app loads; ``None`` loads every installed plugin."""
    return None


@pytest.fixture
def pbk_config(tmp_path: Path, pbk_plugins: Sequence[str] | None) -> dict[str, Any]:
    """Keyword arguments for ``pbk.Config``; the data dir is a fresh temp dir."""
    return {
        "data_dir": tmp_path / "pb_data",
        "plugins": tuple(pbk_plugins) if pbk_plugins is not None else None,
    }


@pytest_asyncio.fixture
async def pbk_app(pbk_config: dict[str, Any]) -> AsyncIterator[Any]:
    """A started app (database open, migrations applied, ``pbk_startup`` run)."""
    from pbk import build_app  # the kernel builds the app; plugins still import only pbk_sdk

    app = build_app(**pbk_config)
    await app.start()
    try:
        yield app
    finally:
        await app.stop()


@pytest_asyncio.fixture
async def pbk_client(pbk_app: Any) -> AsyncIterator[Any]:
    """``falcon.testing.ASGIConductor`` over the app: ``await pbk_client.get("/api/health")``."""
    import falcon.testing

    async with falcon.testing.ASGIConductor(pbk_app.asgi) as conductor:
        yield conductor


@contextlib.asynccontextmanager
async def client_for(config: dict[str, Any]) -> AsyncIterator[Any]:
    """A started app built from ``config`` (``pbk.Config`` keyword arguments) and a falcon
    ``ASGIConductor`` over it, for a test that needs an app other than ``pbk_app``."""
    import falcon.testing
    from pbk import build_app

    app = build_app(**config)
    await app.start()
    try:
        async with falcon.testing.ASGIConductor(app.asgi) as conductor:
            yield conductor
    finally:
        await app.stop()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


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
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


def start_live_server(
    data_dir: Path,
    args: Sequence[str] = (),
    *,
    env: dict[str, str] | None = None,
    python: str = sys.executable,
    cwd: Path | None = None,
) -> LiveServer:
    """Run ``python -m pbk serve`` on a free port and wait until ``/api/health`` answers."""
    port = free_port()
    command = [python, "-m", "pbk", "serve", "--http", f"127.0.0.1:{port}", "--dir", str(data_dir),
               *args]
    return launch(command, port, data_dir, data_dir.parent / f"pbk-serve-{port}.log", env=env, cwd=cwd)


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
    import httpx

    url = f"http://127.0.0.1:{port}"
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
    server = LiveServer(process, url, data_dir, log_path, command)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{command[0]} exited with {process.returncode}:\n{server.output()}")
        try:
            if httpx.get(f"{url}/api/health", timeout=1.0).status_code == 200:
                return server
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    server.stop(signal.SIGKILL)
    raise RuntimeError(f"{command[0]} did not answer within {timeout}s:\n{server.output()}")


@pytest.fixture
def live_server_factory(tmp_path: Path) -> Iterator[Callable[..., LiveServer]]:
    """Start as many ``pbk serve`` processes as a test needs; all are stopped afterwards."""
    servers: list[LiveServer] = []

    def start(args: Sequence[str] = (), *, data_dir: Path | None = None, **kwargs: Any) -> LiveServer:
        server = start_live_server(data_dir or tmp_path / "pb_data", args, **kwargs)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def live_server(live_server_factory: Callable[..., LiveServer], pbk_plugins: Sequence[str] | None) -> LiveServer:
    """``pbk serve`` with ``pbk_plugins`` on a free loopback port."""
    args = ["--plugins", ",".join(pbk_plugins)] if pbk_plugins is not None else []
    return live_server_factory(args)


# The real PocketBase binary, run the same way (it builds on LiveServer and free_port above).
from .pocketbase import (  # noqa: F401  (pocketbase_factory is a fixture of this plugin)
    pocketbase_binary,
    pocketbase_factory,
    pocketbase_superuser,
    start_pocketbase,
    superuser_token,
)
