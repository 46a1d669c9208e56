"""``python -m bench``: pbk against the real PocketBase, side by side, in one run.

pbk (on SQLite), pbk on PostgreSQL (``pbk-pg``: a database of the run's own) and PocketBase are
started fresh on loopback with their own data dirs and seeded through their HTTP APIs with the
same data; the ceiling app (``bench/ceiling_app.py``) serves a copy of pbk's seeded data. Then
every load scenario runs against all of them, rotating which goes first each round so drift
cancels out. ``--scale`` runs ``bench/scale.py`` instead. See docs/performance.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

if __package__ in (None, ""):  # `python bench/run.py`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    __package__ = "bench"

from bench import bulk, loadgen, postgres, report
from bench.measure import Loop, log
from bench.scenarios import LOAD_SCENARIOS, LoadScenario
from bench.seed import seed
from bench.servers import (
    KINDS,
    PBK_KINDS,
    Running,
    Server,
    compile_sources,
    pbk_source_root,
    pbk_workers,
)

ROOT = Path(__file__).resolve().parents[1]
FULL = {"posts": 10_000, "users": 20, "items": 1_000, "duration": 8.0, "warmup": 2.0, "rounds": 3,
        "startup_runs": 7}
QUICK = {"posts": 2_000, "users": 10, "items": 200, "duration": 2.0, "warmup": 1.0, "rounds": 1,
         "startup_runs": 3}
SCALE = {**FULL, "duration": 6.0, "warmup": 1.0, "rounds": 2}
SCALE_QUICK = {**QUICK, "duration": 2.0, "warmup": 0.0, "rounds": 1}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="fewer records, 2 s runs, 1 round (about 3.5 minutes)")
    parser.add_argument("--scale", action="store_true",
                        help="the scale run instead (bench/scale.py: 10k and 1M records)")
    parser.add_argument("--scale-rows", type=int, default=1_000_000,
                        help="--scale: rows of the large collection (default 1,000,000)")
    parser.add_argument("--scale-cache", type=Path, default=ROOT / "bench" / "results" / "scale-cache",
                        help="--scale: where the seeded pb_data are kept between runs")
    parser.add_argument("--servers", default=None,
                        help="comma-separated: pbk, pocketbase, ceiling, pbk-pg (default all four; "
                             "--scale: the first three)")
    parser.add_argument("--postgres", default=postgres.SERVER_URL,
                        help="pbk-pg: the PostgreSQL server its database is made on (any database "
                             "of it; default %(default)s)")
    parser.add_argument("--pbk-plugins", default=None,
                        help="an EXTRA run with a reduced plugin set (e.g. records,auth,realtime); the "
                             "default and the headline is pbk as installed, every default plugin")
    parser.add_argument("--scenarios", default="",
                        help="comma-separated subset of the load scenarios (default all)")
    parser.add_argument("--posts", type=int, help="posts (and notes) to seed")
    parser.add_argument("--users", type=int, help="users to seed")
    parser.add_argument("--items", type=int, help="items to seed (the update scenario's records)")
    parser.add_argument("--duration", type=float, help="seconds per measurement")
    parser.add_argument("--warmup", type=float, help="seconds of warm-up per scenario and server")
    parser.add_argument("--rounds", type=int, help="rounds (each runs every scenario on both)")
    parser.add_argument("--startup-runs", type=int, help="restarts timed to a healthy /api/health")
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
    defaults = {(False, False): FULL, (True, False): QUICK, (False, True): SCALE,
                (True, True): SCALE_QUICK}[args.quick, args.scale]
    for key, value in defaults.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    if args.servers is None:
        args.servers = ",".join(k for k in KINDS if not (args.scale and k == "pbk-pg"))
    return args


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
    """pbk's commit (of the checkout ``pbk`` is installed from, which an editable install may
    put elsewhere than this harness: then its path is given too) and PocketBase's version."""
    found = {}
    source = pbk_source_root()
    git = subprocess.run(["git", "-C", str(source), "rev-parse", "--short", "HEAD"],
                         check=False, capture_output=True, text=True)
    dirty = subprocess.run(["git", "-C", str(source), "status", "--porcelain"], check=False, capture_output=True,
                           text=True)
    found["pbk"] = ((git.stdout.strip() or "unknown") + ("+dirty" if dirty.stdout.strip() else "")
                    + ("" if source == ROOT else f" (from {source})"))
    if servers.get("pbk-pg") and servers["pbk-pg"].db_url:
        found["postgresql"] = postgres.server_version(servers["pbk-pg"].db_url)
    if "pocketbase" in servers:
        out = subprocess.run([servers["pocketbase"].binary(), "--version"], check=False, capture_output=True, text=True)
        found["pocketbase"] = out.stdout.strip().split()[-1] if out.stdout.strip() else "unknown"
    return found


def chosen(scenarios: list[LoadScenario], args: argparse.Namespace) -> list[LoadScenario]:
    """``--scenarios`` (default all), each capped at ``--connections-cap`` connections."""
    wanted = [s for s in args.scenarios.split(",") if s]
    picked = [s for s in scenarios if not wanted or s.name in wanted]
    if args.connections_cap:
        picked = [dataclasses.replace(s, connections=min(s.connections, args.connections_cap)) for s in picked]
    return picked


def make_servers(args: argparse.Namespace) -> dict[str, Server]:
    names = [n.strip() for n in args.servers.split(",") if n.strip()]
    unknown = set(names) - set(KINDS)
    if unknown or not names:
        raise SystemExit(f"unknown servers: {', '.join(sorted(unknown)) or '(none)'}")
    return {n: Server(n, list(args.pbk_arg) if n in PBK_KINDS else [], plugins=args.pbk_plugins,
                      workers=pbk_workers(args.pbk_arg)) for n in names}


def pbk_setup(args: argparse.Namespace) -> str:
    """How pbk ran, for the report's first line."""
    plugins = (f"REDUCED plugin set --plugins {args.pbk_plugins} (an extra, not the headline)"
               if args.pbk_plugins else "as installed: every default plugin")
    return f"`pbk serve` {plugins}, {pbk_workers(args.pbk_arg)} workers" + (
        f", extra arguments {' '.join(args.pbk_arg)}" if args.pbk_arg else "") + (
        "; pbk-pg: the same with `--db postgresql://...` (a database of the run's own, dropped after)"
        if "pbk-pg" in (args.servers or "") else "")


def start_ceiling(server: Server, source: Running, workdir: Path) -> Running:
    """The ceiling app on a copy of a seeded server's data."""
    data_dir = workdir / "ceiling" / "pb_data"
    bulk.copy_database(source.data_dir / "data.db", data_dir / "data.db")
    return server.start(data_dir, workdir / "ceiling" / "server.log")


def write_result(result: dict, out: Path | None, suffix: str) -> Path:
    stamp = datetime.fromisoformat(result["meta"]["date"]).strftime("%Y%m%dT%H%M%SZ")
    path = out or ROOT / "bench" / "results" / f"{stamp}-{suffix}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2) + "\n")
    log(f"results: {path}")
    return path


def finish(loop: Loop) -> int:
    """Non-zero when a measurement was invalid: it is in the JSON, never in a median."""
    if not loop.invalid:
        return 0
    log("INVALID measurements (too many failed requests), left out of every median:")
    for line in loop.invalid:
        log("  " + line)
    return 3


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.scale:
        from bench import scale

        return scale.main(args)
    servers = make_servers(args)
    scenarios = chosen(LOAD_SCENARIOS, args)
    label, run_load = loadgen.choose(args.loadgen)
    compile_sources()
    workdir = Path(tempfile.mkdtemp(prefix="pbk-bench-"))
    try:
        with contextlib.ExitStack() as stack:
            if "pbk-pg" in servers:
                servers["pbk-pg"].db_url = stack.enter_context(postgres.bench_database(args.postgres))
            return run(args, servers, scenarios, workdir, label, run_load)
    finally:
        if args.keep:
            log(f"data dirs and logs kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def run(args: argparse.Namespace, servers: dict[str, Server], scenarios: list[LoadScenario], workdir: Path,
        label: str, run_load: Callable[..., loadgen.LoadResult]) -> int:
    names = list(servers)
    started_at = datetime.now(UTC)
    log(f"workdir {workdir}; load generator: {label}; servers: {', '.join(names)}; pbk: {pbk_setup(args)}")

    result: dict[str, object] = {
        "meta": {
            "date": started_at.isoformat(timespec="seconds"),
            "mode": "quick" if args.quick else "full",
            "machine": machine(),
            "versions": versions(servers),
            "loadgen": label,
            "pbk_setup": pbk_setup(args),
            "config": {k: getattr(args, k) for k in
                       ("posts", "users", "items", "duration", "warmup", "rounds", "startup_runs",
                        "threads", "pbk_arg", "pbk_plugins")},
            "loadavg_at_start": [round(x, 2) for x in os.getloadavg()],
        },
        "scenarios": {},
    }
    running: dict[str, Running] = {}
    seeded = {}
    measured = [n for n in names if n != "ceiling"]  # idle memory and start-up: not the ceiling
    try:
        for name in measured:
            data_dir = workdir / name / "pb_data"
            servers[name].make_superuser(data_dir)
            running[name] = servers[name].start(data_dir, workdir / name / "server.log")
            log(f"{name}: started in {running[name].startup_seconds * 1000:.0f} ms "
                f"(pid {running[name].pid}), seeding {args.posts} posts + {args.posts} notes")
            begin = time.perf_counter()
            seeded[name] = asyncio.run(seed(running[name].url, posts=args.posts, users=args.users,
                                            items=args.items))
            log(f"{name}: seeded in {time.perf_counter() - begin:.1f} s")
        time.sleep(1.0)  # let both settle before the idle sample
        idle: dict[str, float] = {}
        idle_pss: dict[str, float] = {}
        for name in measured:
            samples, pss_samples = [], []
            for _ in range(3):
                samples.append(running[name].rss_kib())
                pss_samples.append(running[name].pss_kib())
                time.sleep(0.3)
            idle[name] = statistics.median(samples)
            idle_pss[name] = statistics.median(pss_samples)
        result["scenarios"]["idle_rss"] = {"servers": {n: {"rss_mib": v / 1024} for n, v in idle.items()}}
        result["scenarios"]["idle_pss"] = {"servers": {n: {"rss_mib": v / 1024} for n, v in idle_pss.items()}}
        if "pbk-pg" in running:
            result["postgres"] = postgres.describe(running["pbk-pg"].database)
            log(f"pbk-pg: {result['postgres']['idle_connections']} database connections when idle")
        if "ceiling" in names:
            source = next((n for n in measured if n != "pbk-pg"), None)
            if source is None:
                raise SystemExit("the ceiling serves a copy of pbk's (or PocketBase's) data.db: add one of them")
            running["ceiling"] = start_ceiling(servers["ceiling"], running[source], workdir)
            seeded["ceiling"] = seeded[source]
            log(f"ceiling: {servers['ceiling'].workers} workers on a copy of {source}'s data")

        if args.hold:
            for name, server_process in running.items():
                print(f"{name}: pid {server_process.pid} {server_process.url}", flush=True)
            input("seeded; press Enter to run the scenarios ")

        loop = Loop({n: running[n] for n in names}, run_load, threads=args.threads)
        specs = {(s.name, n): s.build(seeded[n]) for s in scenarios for n in names}
        rounds = loop.measure(scenarios, specs, rounds=args.rounds, seconds=args.duration, warmup=args.warmup)
        for scenario in scenarios:
            result["scenarios"][scenario.name] = {"title": scenario.title, "kind": scenario.kind,
                                                  "connections": scenario.connections,
                                                  "servers": {n: {"rounds": rounds[scenario.name][n]}
                                                              for n in names}}
    finally:
        for server_process in running.values():
            server_process.stop()

    startups: dict[str, list[float]] = {n: [] for n in measured}
    for run_index in range(args.startup_runs):
        order = measured if run_index % 2 == 0 else list(reversed(measured))
        for name in order:
            data_dir = workdir / name / "pb_data"
            server_process = servers[name].start(data_dir, workdir / name / "server.log")
            startups[name].append(server_process.startup_seconds)
            server_process.stop()
    if args.startup_runs:
        result["scenarios"]["startup"] = {"servers": {n: {"runs": v, "seconds": statistics.median(v)}
                                                       for n, v in startups.items()}}
        log("start-up to healthy: " + ", ".join(f"{n} {statistics.median(v) * 1000:.0f} ms"
                                                 for n, v in startups.items()))
    result["meta"]["loadavg_at_end"] = [round(x, 2) for x in os.getloadavg()]
    result["meta"]["wall_seconds"] = round((datetime.now(UTC) - started_at).total_seconds(), 1)
    report.summarise(result)
    mode = result["meta"]["mode"] + ("-reduced" if args.pbk_plugins else "")
    write_result(result, args.out, mode)
    table = report.markdown(result)
    print(table)
    postgres_table = report.postgres_markdown(result) if "pbk-pg" in names else None
    if postgres_table:
        print(postgres_table)
    if args.pbk_plugins:
        log("a reduced plugin set is never the headline: docs/performance.md left alone")
    elif not args.no_docs:
        report.update_docs(args.docs, table)
        if postgres_table:
            report.update_docs(args.docs, postgres_table, start=report.POSTGRES_START, end=report.POSTGRES_END,
                               heading="PostgreSQL")
        log(f"tables written into {args.docs}")
    return finish(loop)


if __name__ == "__main__":
    raise SystemExit(main())
