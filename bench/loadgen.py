"""Load generators: ``wrk`` (real numbers) and a pure-Python fallback (harness checks only).

A request spec is a method, a list of paths (taken round robin), headers and an optional body
``prefix + n + suffix`` (``n`` counts requests, so created records differ). A spec with an
``id_path`` sends every request to a different record instead: ``id_path`` + the id
``bulk.TRASH_ID`` of ``first_id``, ``first_id + 1``, ... (what each delete run consumes).
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from .bulk import TRASH_ID

WRK_MISSING = ("wrk is not installed; the harness installs nothing. Get it with "
               "`sudo apt-get install wrk` (Debian/Ubuntu) or build https://github.com/wg/wrk, "
               "or pass `--loadgen python` for a pure-Python fallback that is NOT for real numbers.")
PYTHON_FALLBACK = "python-fallback (httpx+asyncio; NOT for real numbers)"
USER_AGENT = "pbk-bench"


@dataclass
class RequestSpec:
    method: str
    paths: list[str]
    headers: dict[str, str] = field(default_factory=dict)
    body: str | tuple[str, str] | None = None  # fixed, or (prefix, suffix) around a counter
    id_path: str | None = None
    first_id: int = 0

    def __post_init__(self) -> None:
        # One client name for the pre-flight and the load: servers that remember a client's
        # fingerprint at login (auth origins) see the load's client before it starts.
        self.headers = {"User-Agent": USER_AGENT, **self.headers}

    def path(self, n: int) -> str:
        """The ``n``-th request's path (0-based)."""
        if self.id_path is not None:
            return self.id_path + TRASH_ID.format(self.first_id + n)
        return self.paths[n % len(self.paths)]

    def content(self, n: int) -> bytes | None:
        if self.body is None:
            return None
        if isinstance(self.body, str):
            return self.body.encode()
        return f"{self.body[0]}{n}{self.body[1]}".encode()


@dataclass
class LoadResult:
    requests: int
    seconds: float
    errors: int
    p50_ms: float
    p99_ms: float
    client_cpu_seconds: float
    error_kinds: str = ""  # wrk's split of the errors
    cost: dict[str, float | None] = field(default_factory=dict)  # CPU and database (measure.costed)

    @property
    def throughput(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def wrk_available() -> bool:
    return shutil.which("wrk") is not None


def _lua_string(value: str) -> str:
    return json.dumps(value)  # a JSON string literal is a valid Lua string literal for our input


def wrk_script(spec: RequestSpec, threads: int = 1) -> str:
    """Threads take every ``threads``-th request number, so ids never repeat across threads."""
    paths = ", ".join(_lua_string(p) for p in spec.paths)
    headers = "\n".join(f"wrk.headers[{_lua_string(k)}] = {_lua_string(v)}" for k, v in spec.headers.items())
    if spec.body is None:
        make_body = "nil"
    elif isinstance(spec.body, str):
        make_body = _lua_string(spec.body)
    else:
        prefix, suffix = spec.body
        make_body = f"{_lua_string(prefix)} .. counter .. {_lua_string(suffix)}"
    if spec.id_path is None:
        make_path = "paths[(counter % #paths) + 1]"
    else:
        lua_format = TRASH_ID.replace("{:", "%").replace("}", "")
        make_path = (f"{_lua_string(spec.id_path)} .. string.format({_lua_string(lua_format)}, "
                     f"{spec.first_id} + counter * {threads} + thread_index)")
    return f"""
local paths = {{{paths}}}
local counter = -1
local created_threads = 0
thread_index = 0
wrk.method = {_lua_string(spec.method)}
{headers}
setup = function(thread)
  thread:set("thread_index", created_threads)
  created_threads = created_threads + 1
end
request = function()
  counter = counter + 1
  local path = {make_path}
  return wrk.format(nil, path, nil, {make_body})
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {{"requests":%d,"duration_us":%d,"errors":%d,"p50_us":%d,"p99_us":%d,"kinds":"connect %d read %d write %d status %d timeout %d"}}\\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.status + e.timeout,
    latency:percentile(50), latency:percentile(99), e.connect, e.read, e.write, e.status, e.timeout))
end
"""


def run_wrk(url: str, spec: RequestSpec, *, connections: int, seconds: float, threads: int = 1) -> LoadResult:
    if not wrk_available():
        raise SystemExit(WRK_MISSING)
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(wrk_script(spec, min(threads, connections)))
    try:
        command = ["wrk", "-t", str(min(threads, connections)), "-c", str(connections),
                   "-d", f"{max(1, round(seconds))}s", "--timeout", "10s", "-s", script.name, url]
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        assert process.stdout is not None
        output = process.stdout.read().decode(errors="replace")
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
    finally:
        Path(script.name).unlink(missing_ok=True)
    line = next((l for l in output.splitlines() if l.startswith("BENCH_JSON ")), None)
    if process.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({process.returncode}):\n{output}")
    data = json.loads(line.removeprefix("BENCH_JSON "))
    return LoadResult(requests=data["requests"], seconds=data["duration_us"] / 1e6,
                      errors=data["errors"], p50_ms=data["p50_us"] / 1000, p99_ms=data["p99_us"] / 1000,
                      client_cpu_seconds=usage.ru_utime + usage.ru_stime, error_kinds=data["kinds"])


def percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return 0.0
    index = min(len(sorted_values) - 1, max(0, round(q / 100 * (len(sorted_values) - 1))))
    return sorted_values[index]


async def _python_load(url: str, spec: RequestSpec, connections: int, seconds: float) -> tuple[list[float], int, float]:
    import httpx

    latencies: list[float] = []
    errors = 0
    counter = 0
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=10.0, headers=spec.headers) as client:
        started = time.perf_counter()
        deadline = started + seconds

        async def worker() -> None:
            nonlocal errors, counter
            while time.perf_counter() < deadline:
                n = counter
                counter += 1
                begin = time.perf_counter()
                try:
                    response = await client.request(spec.method, spec.path(n), content=spec.content(n))
                    if response.status_code >= 400:
                        errors += 1
                except httpx.HTTPError:
                    errors += 1
                latencies.append(time.perf_counter() - begin)

        await asyncio.gather(*(worker() for _ in range(connections)))
        return latencies, errors, time.perf_counter() - started


def run_python(url: str, spec: RequestSpec, *, connections: int, seconds: float, threads: int = 1) -> LoadResult:
    """The fallback: correct counts, but the client is slow and shares the CPU; NOT for real numbers."""
    cpu_before = time.process_time()
    latencies, errors, elapsed = asyncio.run(_python_load(url, spec, connections, seconds))
    cpu = time.process_time() - cpu_before
    latencies.sort()
    return LoadResult(requests=len(latencies), seconds=elapsed, errors=errors,
                      p50_ms=percentile(latencies, 50) * 1000, p99_ms=percentile(latencies, 99) * 1000,
                      client_cpu_seconds=cpu)


def choose(name: str):
    """``wrk``, ``python`` or ``auto`` (wrk when installed) -> (label, runner)."""
    if name == "wrk" or (name == "auto" and wrk_available()):
        if not wrk_available():
            raise SystemExit(WRK_MISSING)
        version = subprocess.run(["wrk", "--version"], check=False, capture_output=True, text=True).stdout.split("\n")[0]
        return ("wrk " + version.split()[1] if len(version.split()) > 1 else "wrk"), run_wrk
    if name == "auto":
        print("bench: " + WRK_MISSING + " Falling back to the Python load generator.", flush=True)
    return PYTHON_FALLBACK, run_python
