"""Several ``pbk serve --db URL`` nodes on one PostgreSQL database, each with a data dir of its
own, as behind a load balancer: for tests of what must hold across nodes.

``with running_nodes(base, url, plugins) as nodes:`` starts them one after another (the first
makes the tables), the superuser ``root@example.com`` / ``1234567890`` made first, and stops
them on the way out. Each is a ``Node``: its ``LiveServer`` and the superuser's token.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from .pocketbase import superuser_token
from .servers import LiveServer, start_live_server

EMAIL, PASSWORD = "root@example.com", "1234567890"


@dataclass
class Node:
    server: LiveServer
    token: str

    @property
    def url(self) -> str:
        return self.server.url


def make_superuser(data_dir: Path, database_url: str, plugins: Sequence[str]) -> None:
    """``pbk superuser upsert`` on the database (and ``data_dir``, which it creates)."""
    done = subprocess.run(
        [sys.executable, "-m", "pbk", "--plugins", ",".join(plugins), "--dir", str(data_dir),
         "--db", database_url, "superuser", "upsert", EMAIL, PASSWORD],
        capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=120, check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


@contextmanager
def running_nodes(
    base: Path, database_url: str, plugins: Sequence[str], *, count: int = 2, workers: int = 1,
    args: Sequence[str] = (), env: dict[str, str] | None = None, first_port: int | None = None,
) -> Iterator[list[Node]]:
    """``count`` nodes on ``database_url``, on ``base / "node0"``, ``base / "node1"`` ..., each
    with ``workers`` workers and ``args``, the first on ``first_port`` (default: a free port,
    as the others); all stopped on the way out."""
    make_superuser(base / "node0", database_url, plugins)
    with ExitStack() as stack:
        nodes = []
        for number in range(count):
            server = start_live_server(
                base / f"node{number}",
                ["--db", database_url, "--plugins", ",".join(plugins), "--workers", str(workers), *args],
                env=env, port=first_port if number == 0 else None,
            )
            stack.callback(server.stop)
            nodes.append(Node(server, superuser_token(server.url, EMAIL, PASSWORD)))
        yield nodes
