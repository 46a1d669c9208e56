"""A PostgreSQL server of the test's own, for tests that stop and start it (the shared server at
5432 is never touched): Debian's ``initdb``/``pg_ctl`` on a free loopback port, data in a
temporary folder, run as the ``postgres`` user when the test runs as root (PostgreSQL refuses
to run as root). ``with postgres_server() as server:`` ... ``server.stop()``, ``server.start()``.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from .servers import free_port

SUPERUSER = "root"


def binaries() -> Path:
    """The newest ``/usr/lib/postgresql/*/bin`` (skips where PostgreSQL's server is missing)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda path: int(path.split("/")[4]))
    if not found:
        pytest.skip("no PostgreSQL server binaries in /usr/lib/postgresql/*/bin (apt-get install postgresql)")
    return Path(found[-1]).parent


@dataclass
class PostgresServer:
    folder: Path
    port: int
    bin: Path

    def url(self, database: str) -> str:
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def run(self, *command: str) -> None:
        """Run a PostgreSQL program as the folder's owner."""
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        done = subprocess.run([*prefix, *command], capture_output=True, text=True, timeout=60,
                              check=False, cwd=self.folder)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed:\n{done.stdout}{done.stderr}\n{self.log()}")

    def log(self) -> str:
        path = self.folder / "server.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def start(self) -> None:
        options = (f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off "
                   "-c synchronous_commit=off -c full_page_writes=off")
        self.run(str(self.bin / "pg_ctl"), "-D", str(self.folder / "data"), "-l",
                 str(self.folder / "server.log"), "-o", options, "-w", "start")

    def stop(self) -> None:
        """Stop it as an operator's fast restart does: sessions ended, no shutdown checkpoint wait."""
        self.run(str(self.bin / "pg_ctl"), "-D", str(self.folder / "data"), "-m", "fast", "-w", "stop")


@contextlib.contextmanager
def postgres_server() -> Iterator[PostgresServer]:
    """A new PostgreSQL server (``root`` as its superuser, trust auth), started; stopped and
    removed afterwards."""
    bin_dir = binaries()
    folder = Path(tempfile.mkdtemp(prefix="pbk-postgres-"))  # /tmp: the postgres user reaches it
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    server = PostgresServer(folder, free_port(), bin_dir)
    try:
        server.run(str(bin_dir / "initdb"), "-D", str(folder / "data"), "-U", SUPERUSER, "-A", "trust",
                   "-E", "UTF8", "--no-sync", "--no-instructions")
        server.start()
        yield server
    finally:
        with contextlib.suppress(RuntimeError):
            server.stop()
        shutil.rmtree(folder, ignore_errors=True)
