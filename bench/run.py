"""``python -m bench``: pbk against the real PocketBase, side by side, in one run.

Each server is started fresh on loopback with its own data dir, seeded through its HTTP API
with the same data, then every load scenario runs against both, alternating which goes first
each round so drift cancels out. See docs/performance.md.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Self

if __package__ in (None, ""):  # `python bench/run.py`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    __package__ = "bench"

from bench import ceiling, loadgen, report
from bench.scenarios import LOAD_SCENARIOS
from bench.seed import seed
from bench.servers import Running, Server, compile_sources

ROOT = Path(__file__).resolve().parents[1]
FULL = {"posts": 10_000, "users": 20, "duration": 15.0, "warmup": 3.0, "rounds": 5, "startup_runs": 7}
QUICK = {"posts": 2_000, "users": 10, "duration": 3.0, "warmup": 1.0, "rounds": 2, "startup_runs": 3}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="fewer records, shorter runs, 2 rounds (finishes within 3 minutes)")
    parser.add_argument("--servers", default="pbk,pocketbase",
                        help="comma-separated: pbk, pocketbase (default both)")
    parser.add_argument("--scenarios", default="",
                        help="comma-separated subset of the load scenarios (default all)")
    parser.add_argument("--posts", type=int, help="posts (and notes) to seed")
    parser.add_argument("--users", type=int, help="users to seed")
    parser.add_argument("--duration", type=float, help="seconds per measurement")
    parser.add_argument("--warmup", type=float, help="seconds of warm-up per scenario and server")
    parser.add_argument("--rounds", type=int, help="rounds (each runs every scenario on both)")
    parser.add_argument("--startup-runs", type=int, help="restarts timed to a healthy /api/health")
    parser.add_argument("--ceiling-seconds", type=float, default=None)
    parser.add_argument("--loadgen", choices=["auto", "wrk", "python"], default="auto",
                        help="wrk (real numbers), python (fallback, NOT for real numbers), auto")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads (default 1)")
    parser.add_argument("--connections-cap", type=int, default=0,
                        help="cap every scenario's connections (smoke runs; 0 = no cap)")
    parser.add_argument("--pbk-arg", action="append", default=[],
                        help="extra argument for `pbk serve` (repeatable), e.g. a workers flag")
    parser.add_argument("--out", type=Path, help="result JSON (default bench/results/<stamp>.json)")
    parser.add_argument("--docs", type=Path, default=ROOT / "docs" / "performance.md")
    parser.add_argument("--no-docs", action="store_true", help="do not touch docs/performance.md")
    parser.add_argument("--keep", action="store_true", help="keep the data dirs and server logs")
    parser.add_argument("--hold", action="store_true",
                        help="after seeding, print the servers' pids and URLs and wait for Enter "
                             "(to attach a profiler)")
    args = parser.parse_args(argv)
    defaults = QUICK if args.quick else FULL
    for key, value in defaults.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    if args.ceiling_seconds is None:
        args.ceiling_seconds = min(3.0, args.duration)
    return args


class RssSampler:
    """Peak RSS (process + children) of a server while a load runs."""

    def __init__(self, running: Running, interval: float = 0.2) -> None:
        self.running, self.interval, self.peak = running, interval, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.running.rss_kib())
            self._stop.wait(self.interval)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.running.rss_kib())


def machine() -> dict[str, object]:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        memory = Path("/proc/meminfo").read_text().splitlines()[0].split(":", 1)[1].strip()
    except (OSError, IndexError):
        pass
    return {"cpu": model, "cores": os.cpu_count(), "memory": memory, "kernel": platform.release(),
            "python": platform.python_version()}


def versions(servers: dict[str, Server]) -> dict[str, str]:
    found = {}
    git = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                         check=False, capture_output=True, text=True)
    dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain"], check=False, capture_output=True,
                           text=True)
    found["pbk"] = (git.stdout.strip() or "unknown") + ("+dirty" if dirty.stdout.strip() else "")
    if "pocketbase" in servers:
        out = subprocess.run([servers["pocketbase"].binary(), "--version"], check=False, capture_output=True, text=True)
        found["pocketbase"] = out.stdout.strip().split()[-1] if out.stdout.strip() else "unknown"
    return found


def preflight(url: str, scenario: str, server: str, spec: loadgen.RequestSpec) -> None:
    """One request per scenario first: a benchmark of error answers measures nothing."""
    import httpx

    body = spec.body if isinstance(spec.body, str) or spec.body is None else "0".join(spec.body)
    response = httpx.request(spec.method, url + spec.paths[0], headers=spec.headers,
                             content=None if body is None else body.encode(), timeout=30.0)
    if response.status_code >= 400:
        raise RuntimeError(f"{scenario} on {server}: {spec.method} {spec.paths[0]} answered "
                           f"{response.status_code}: {response.text[:300]}")


def settle(running: list[Running], quiet_share: float = 0.1, limit: float = 20.0) -> float:
    """Wait until every server is idle (together under ``quiet_share`` of a core over half a
    second), so no server's leftover work (PocketBase writes its request log in the background
    after a load) runs during the next one's measurement; returns the seconds waited."""
    started = time.monotonic()
    while time.monotonic() - started < limit:
        before = sum(r.cpu_seconds() for r in running)
        time.sleep(0.5)
        if sum(r.cpu_seconds() for r in running) - before < quiet_share * 0.5:
            break
    return time.monotonic() - started


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    names = [n.strip() for n in args.servers.split(",") if n.strip()]
    unknown = set(names) - {"pbk", "pocketbase"}
    if unknown or not names:
        raise SystemExit(f"unknown servers: {', '.join(sorted(unknown)) or '(none)'}")
    servers = {n: Server(n, list(args.pbk_arg) if n == "pbk" else []) for n in names}
    wanted = [s for s in args.scenarios.split(",") if s]
    scenarios = [s for s in LOAD_SCENARIOS if not wanted or s.name in wanted]
    if args.connections_cap:
        scenarios = [dataclasses.replace(s, connections=min(s.connections, args.connections_cap))
                     for s in scenarios]
    label, run_load = loadgen.choose(args.loadgen)
    compile_sources()
    workdir = Path(tempfile.mkdtemp(prefix="pbk-bench-"))
    started_at = datetime.now(UTC)
    log(f"workdir {workdir}; load generator: {label}; servers: {', '.join(names)}")

    result: dict[str, object] = {
        "meta": {
            "date": started_at.isoformat(timespec="seconds"),
            "mode": "quick" if args.quick else "full",
            "machine": machine(),
            "versions": versions(servers),
            "loadgen": label,
            "config": {k: getattr(args, k) for k in
                       ("posts", "users", "duration", "warmup", "rounds", "startup_runs", "threads",
                        "pbk_arg")},
            "loadavg_at_start": [round(x, 2) for x in os.getloadavg()],
        },
        "scenarios": {},
    }
    running: dict[str, Running] = {}
    seeded = {}
    try:
        for name, server in servers.items():
            data_dir = workdir / name / "pb_data"
            server.make_superuser(data_dir)
            running[name] = server.start(data_dir, workdir / name / "server.log")
            log(f"{name}: started in {running[name].startup_seconds * 1000:.0f} ms "
                f"(pid {running[name].pid}), seeding {args.posts} posts + {args.posts} notes")
            begin = time.perf_counter()
            seeded[name] = asyncio.run(seed(running[name].url, posts=args.posts, users=args.users))
            log(f"{name}: seeded in {time.perf_counter() - begin:.1f} s")
        time.sleep(1.0)  # let both settle before the idle sample
        idle: dict[str, float] = {}
        idle_pss: dict[str, float] = {}
        for name, server_process in running.items():
            samples, pss_samples = [], []
            for _ in range(3):
                samples.append(server_process.rss_kib())
                pss_samples.append(server_process.pss_kib())
                time.sleep(0.3)
            idle[name] = statistics.median(samples)
            idle_pss[name] = statistics.median(pss_samples)
        result["scenarios"]["idle_rss"] = {"servers": {n: {"rss_mib": v / 1024} for n, v in idle.items()}}
        result["scenarios"]["idle_pss"] = {"servers": {n: {"rss_mib": v / 1024} for n, v in idle_pss.items()}}

        data_db = running[names[0]].data_dir / "data.db"
        ids = seeded[names[0]].post_ids[:: max(1, len(seeded[names[0]].post_ids) // 200)][:200]
        result["ceiling"] = ceiling.run(data_db, ids, args.ceiling_seconds)
        log(f"in-process ceiling (APSW + orjson, 1 thread): {result['ceiling']['throughput']:.0f} views/s")

        if args.hold:
            for name, server_process in running.items():
                print(f"{name}: pid {server_process.pid} {server_process.url}", flush=True)
            input("seeded; press Enter to run the scenarios ")

        specs = {(s.name, n): s.build(seeded[n]) for s in scenarios for n in names}
        for (scenario_name, name), spec in specs.items():
            preflight(running[name].url, scenario_name, name, spec)
        if args.warmup > 0:
            for scenario in scenarios:
                for name in names:
                    run_load(running[name].url, specs[scenario.name, name],
                             connections=scenario.connections, seconds=args.warmup, threads=args.threads)
            log("warmed up")
        rounds: dict[str, dict[str, list[dict[str, float]]]] = {
            s.name: {n: [] for n in names} for s in scenarios}
        for round_index in range(args.rounds):
            order = names if round_index % 2 == 0 else list(reversed(names))
            for scenario in scenarios:
                for name in order:
                    waited = settle(list(running.values()))
                    if waited > 1.0:
                        log(f"waited {waited:.1f} s for the servers to go idle")
                    with RssSampler(running[name]) as sampler:
                        load = run_load(running[name].url, specs[scenario.name, name],
                                        connections=scenario.connections, seconds=args.duration,
                                        threads=args.threads)
                    rounds[scenario.name][name].append({
                        "throughput": load.throughput, "p50_ms": load.p50_ms, "p99_ms": load.p99_ms,
                        "requests": load.requests, "errors": load.errors, "seconds": load.seconds,
                        "rss_mib": sampler.peak / 1024, "client_cpu_s": load.client_cpu_seconds,
                    })
                    log(f"round {round_index + 1}/{args.rounds} {scenario.name:<18} {name:<10} "
                        f"{load.throughput:9.1f}/s p50 {load.p50_ms:7.2f} ms p99 {load.p99_ms:7.2f} ms "
                        f"errors {load.errors}")
        for scenario in scenarios:
            result["scenarios"][scenario.name] = {"title": scenario.title,
                                                  "connections": scenario.connections,
                                                  "servers": {n: {"rounds": rounds[scenario.name][n]}
                                                              for n in names}}
    finally:
        for server_process in running.values():
            server_process.stop()

    startups: dict[str, list[float]] = {n: [] for n in names}
    for run_index in range(args.startup_runs):
        order = names if run_index % 2 == 0 else list(reversed(names))
        for name in order:
            data_dir = workdir / name / "pb_data"
            server_process = servers[name].start(data_dir, workdir / name / "server.log")
            startups[name].append(server_process.startup_seconds)
            server_process.stop()
    result["scenarios"]["startup"] = {"servers": {n: {"runs": v, "seconds": statistics.median(v)}
                                                   for n, v in startups.items()}}
    log("start-up to healthy: " + ", ".join(f"{n} {statistics.median(v) * 1000:.0f} ms"
                                             for n, v in startups.items()))
    result["meta"]["loadavg_at_end"] = [round(x, 2) for x in os.getloadavg()]
    result["meta"]["wall_seconds"] = round((datetime.now(UTC) - started_at).total_seconds(), 1)
    report.summarise(result)

    out = args.out or ROOT / "bench" / "results" / f"{started_at.strftime('%Y%m%dT%H%M%SZ')}-{result['meta']['mode']}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    table = report.markdown(result)
    print(table)
    log(f"results: {out}")
    if not args.no_docs:
        report.update_docs(args.docs, table)
        log(f"table written into {args.docs}")
    if not args.keep:
        import shutil

        shutil.rmtree(workdir, ignore_errors=True)
    else:
        log(f"data dirs and logs kept in {workdir}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
