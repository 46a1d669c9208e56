"""A live single-worker ``pbk serve`` and the real PocketBase 0.40.6, each with the same
superuser, for tests that send both the same requests and compare the answers."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from pbk_sdk.testing import (
    LiveServer,
    pocketbase_superuser,
    start_live_server,
    start_pocketbase,
    superuser_token,
)

SUPERUSER = ("root@example.com", "su-password-123")
PLUGINS = "records,auth"


def pbk_superuser(data_dir: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pbk", "--plugins", PLUGINS, "--dir", str(data_dir), "superuser", "upsert", *SUPERUSER],
        check=False, capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def signed_in(server: LiveServer) -> httpx.Client:
    """A client of ``server`` with the superuser's token."""
    token = superuser_token(server.url, *SUPERUSER)
    return httpx.Client(base_url=server.url, timeout=30, headers={"Authorization": token})


@contextmanager
def live_pbk(data_dir: Path) -> Iterator[LiveServer]:
    pbk_superuser(data_dir)
    server = start_live_server(data_dir, ["--plugins", PLUGINS, "--workers", "1"])
    try:
        yield server
    finally:
        server.stop()


@contextmanager
def live_pocketbase(data_dir: Path) -> Iterator[LiveServer]:
    pocketbase_superuser(data_dir, *SUPERUSER)
    server = start_pocketbase(data_dir)
    try:
        yield server
    finally:
        server.stop()
