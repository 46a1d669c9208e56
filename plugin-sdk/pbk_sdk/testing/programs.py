"""The real PocketBase and ``pbk serve`` side by side, each new with the same superuser, for tests
that send both the same requests and compare the answers::

    with pocketbase_and_pbk(tmp_path, ["records", "auth"]) as (real, ours):
        assert ours.call("GET", "/api/collections/users") == real.call("GET", "/api/collections/users")
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .extra import require
from .pocketbase import pocketbase_superuser, start_pocketbase, superuser_token
from .postgres import database_for, test_engine
from .servers import LiveServer, start_live_server

SUPERUSER_EMAIL, SUPERUSER_PASSWORD = "root@example.com", "1234567890"


@dataclass
class Program:
    """A running PocketBase (``name`` ``"pocketbase"``) or pbk (``"pbk"``), its superuser's
    ``token`` and ``client``, an ``httpx.Client`` on its URL that sends that token."""

    name: str
    server: LiveServer
    token: str
    client: Any

    @property
    def url(self) -> str:
        return self.server.url

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        """``(status, the JSON answer or None)`` of a request with ``body`` as JSON."""
        response = self.client.request(method, path, json=body)
        return response.status_code, response.json() if response.content else None


def pbk_command_superuser(data_dir: Path, plugins: Sequence[str], email: str, password: str) -> None:
    """``pbk superuser upsert EMAIL PASSWORD`` on ``data_dir`` with ``plugins`` (creates the dir)."""
    require("pbk", "pocketbase_and_pbk")
    db = ["--db", database_for(data_dir)] if test_engine() == "postgresql" else []
    done = subprocess.run(
        [sys.executable, "-m", "pbk", "--plugins", ",".join(plugins), "--dir", str(data_dir), *db,
         "superuser", "upsert", email, password],
        capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=120, check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


@contextmanager
def pocketbase_and_pbk(
    base_dir: Path,
    plugins: Sequence[str],
    serve_args: Sequence[str] = (),
    *,
    programs: Sequence[str] = ("pocketbase", "pbk"),
    email: str = SUPERUSER_EMAIL,
    password: str = SUPERUSER_PASSWORD,
) -> Iterator[list[Program]]:
    """Start the real PocketBase on ``base_dir / "pb_real"`` and ``pbk serve --plugins PLUGINS
    SERVE_ARGS`` on ``base_dir / "pb_data"``, each new with the superuser ``email``; yield them
    in the order of ``programs`` (name just one to start only that), signed in. All stop after."""
    httpx = require("httpx", "pocketbase_and_pbk")
    with ExitStack() as stack:
        started = []
        for name in programs:
            if name == "pocketbase":
                pocketbase_superuser(base_dir / "pb_real", email, password)
                server = start_pocketbase(base_dir / "pb_real")
            else:
                pbk_command_superuser(base_dir / "pb_data", plugins, email, password)
                server = start_live_server(base_dir / "pb_data", ["--plugins", ",".join(plugins), *serve_args])
            stack.callback(server.stop)
            token = superuser_token(server.url, email, password)
            client = stack.enter_context(
                httpx.Client(base_url=server.url, timeout=30, headers={"Authorization": token}))
            started.append(Program(name, server, token, client))
        yield started
