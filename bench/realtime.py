"""Realtime fan-out: N SSE subscribers, one record created, time until every one has it.

    python -m bench.realtime                      # 1,000 and 10,000 subscribers, both servers
    python -m bench.realtime --subscribers 1000 --servers pbk --rounds 3

For each server (started fresh, the same collection): open N ``GET /api/realtime`` streams
from one asyncio client process, subscribe each to ``posts/*``, sample the server's RSS, then
create a record ``--rounds`` times and measure, per round, the creating request's own time, the
time until each subscriber received the event (p50, p99, max) and the server's CPU meanwhile
(pbk-pg: with its database's backends), i.e. what one event costs a node per subscriber. The client runs on the same
2 cores as the server, so the figures include the client reading N streams: compare the two
servers' numbers, not the absolute values. Results go to bench/results/ and between the
``bench:realtime`` markers in docs/performance.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import resource
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from .postgres import bench_database
from .report import update_docs
from .servers import SUPERUSER, Running, Server, compile_sources

ROOT = Path(__file__).resolve().parents[1]
START = "<!-- bench:realtime:start -->"
END = "<!-- bench:realtime:end -->"
CONNECT_CONCURRENCY = 200
EVENT_TIMEOUT = 60.0


class Subscriber:
    """One raw SSE connection; records when the first record event arrives."""

    def __init__(self) -> None:
        self.client_id = ""
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.received_at: float | None = None
        self.expected = ""

    async def open(self, port: int) -> None:
        self.reader, self.writer = await asyncio.open_connection("127.0.0.1", port)
        self.writer.write(b"GET /api/realtime HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n")
        await self.writer.drain()
        while not self.client_id:
            line = (await self.reader.readline()).decode(errors="replace").strip()
            if line.startswith("id:"):
                self.client_id = line[3:].strip()

    async def listen(self) -> None:
        assert self.reader is not None
        while True:
            line = await self.reader.readline()
            if not line:
                return
            if self.expected and self.expected.encode() in line and self.received_at is None:
                self.received_at = time.perf_counter()

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


async def _prepare(server: Running) -> dict[str, str]:
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        login = await client.post("/api/collections/_superusers/auth-with-password",
                                  json={"identity": SUPERUSER[0], "password": SUPERUSER[1]})
        headers = {"Authorization": login.json()["token"]}
        created = await client.post("/api/collections", headers=headers, json={
            "name": "posts", "type": "base", "listRule": "", "viewRule": "",
            "fields": [{"name": "title", "type": "text"}, {"name": "views", "type": "number"}]})
        created.raise_for_status()
        return headers


async def _measure(server: Running, subscribers: int, rounds: int) -> dict[str, object]:
    headers = await _prepare(server)
    rss_before = server.rss_kib()
    clients = [Subscriber() for _ in range(subscribers)]
    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)
    async with httpx.AsyncClient(base_url=server.url, timeout=60,
                                 limits=httpx.Limits(max_connections=CONNECT_CONCURRENCY)) as http:

        async def connect(subscriber: Subscriber) -> None:
            async with gate:
                await subscriber.open(server.port)
                answer = await http.post("/api/realtime", json={"clientId": subscriber.client_id,
                                                                "subscriptions": ["posts/*"]})
                answer.raise_for_status()

        began = time.perf_counter()
        await asyncio.gather(*(connect(c) for c in clients))
        connect_seconds = time.perf_counter() - began
        listeners = [asyncio.create_task(c.listen()) for c in clients]
        await asyncio.sleep(1.0)
        rss_after = server.rss_kib()
        results = []
        for round_index in range(rounds):
            title = f"fanout-{round_index}-{time.time_ns()}"
            for client in clients:
                client.expected, client.received_at = title, None
            cpu_before = server.cpu_seconds()
            started = time.perf_counter()
            created = await http.post("/api/collections/posts/records", headers=headers, json={"title": title})
            created.raise_for_status()
            answered = time.perf_counter() - started
            deadline = time.monotonic() + EVENT_TIMEOUT
            while time.monotonic() < deadline and any(c.received_at is None for c in clients):
                await asyncio.sleep(0.01)
            cpu_ms = (server.cpu_seconds() - cpu_before) * 1000
            latencies = sorted((c.received_at - started) * 1000 for c in clients if c.received_at is not None)
            results.append({
                "create_ms": answered * 1000,
                "received": len(latencies),
                "p50_ms": statistics.median(latencies) if latencies else None,
                "p99_ms": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] if latencies else None,
                "max_ms": latencies[-1] if latencies else None,
                "cpu_ms": cpu_ms,
            })
            await asyncio.sleep(0.5)
        for listener in listeners:
            listener.cancel()
        for client in clients:
            client.close()
    return {
        "subscribers": subscribers,
        "connect_seconds": connect_seconds,
        "rss_mib": rss_after / 1024,
        "rss_per_1000_mib": (rss_after - rss_before) / 1024 / subscribers * 1000,
        "rounds": results,
    }


def _median(rounds: list[dict[str, object]], key: str) -> float | None:
    values = [r[key] for r in rounds if r.get(key) is not None]
    return statistics.median(values) if values else None  # type: ignore[arg-type]


def _cpu(rounds: list[dict[str, Any]], scale: float = 1.0) -> str:
    """The server's CPU (its process tree; pbk-pg: and its database backends) from the create
    until the last subscriber had the event, median over rounds, times ``scale``."""
    value = _median(rounds, "cpu_ms")
    return "–" if value is None else f"{value * scale:.1f}"


def markdown(result: dict[str, object]) -> str:
    meta = result["meta"]  # type: ignore[index]
    lines = [
        (f"Realtime run {meta['date']} ({meta['machine']}), client and server on the same cores; "  # type: ignore[index]
        "medians over the rounds."),
        "",
        ("| subscribers | server | all received | create answered ms | fan-out p50 ms | p99 ms | max ms "
         "| RSS MiB | RSS per 1,000 MiB | server CPU ms per event | µs per subscriber |"),
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for run in result["runs"]:  # type: ignore[union-attr]
        rounds = run["rounds"]
        received = min(r["received"] for r in rounds)
        lines.append(
            f"| {run['subscribers']:,} | {run['server']} | {received:,}/{run['subscribers']:,} | "
            f"{_median(rounds, 'create_ms'):.1f} | {_median(rounds, 'p50_ms'):.0f} | "
            f"{_median(rounds, 'p99_ms'):.0f} | {_median(rounds, 'max_ms'):.0f} | "
            f"{run['rss_mib']:.0f} | {run['rss_per_1000_mib']:.1f} | {_cpu(rounds)} "
            f"| {_cpu(rounds, 1000 / run['subscribers'])} |"
        )
    return "\n".join(lines + targets(result["runs"]))  # type: ignore[arg-type]


def targets(runs: list[dict[str, Any]]) -> list[str]:
    """Issue 14: at the most subscribers both servers ran, pbk's fan-out p99 and RSS at most
    PocketBase's."""
    by_count: dict[int, dict[str, dict[str, Any]]] = {}
    for run in runs:
        by_count.setdefault(run["subscribers"], {})[run["server"]] = run
    both = [count for count, servers in by_count.items() if {"pbk", "pocketbase"} <= set(servers)]
    if not both:
        return []
    count = max(both)
    pbk, pb = by_count[count]["pbk"], by_count[count]["pocketbase"]
    p99 = (_median(pbk["rounds"], "p99_ms"), _median(pb["rounds"], "p99_ms"))
    rss = (pbk["rss_mib"], pb["rss_mib"])

    def verdict(pair: tuple[float | None, float | None]) -> str:
        if None in pair:
            return "?"
        return "met" if pair[0] <= pair[1] else "**MISS**"  # type: ignore[operator]

    return ["", (f"Targets at {count:,} subscribers (issue 14): fan-out p99 ≤ PocketBase's: "
                f"{verdict(p99)}; RSS ≤ PocketBase's: {verdict(rss)}.")]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.realtime", description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", default="1000,10000")
    parser.add_argument("--servers", default="pbk,pocketbase",
                        help="comma-separated: pbk, pocketbase, pbk-pg (pbk on a PostgreSQL database of its own)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-docs", action="store_true")
    parser.add_argument("--docs", type=Path, default=ROOT / "docs" / "performance.md")
    args = parser.parse_args(argv)
    counts = [int(n) for n in args.subscribers.split(",") if n]
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if max(counts) + 100 > hard:
        raise SystemExit(f"{max(counts)} subscribers need more file descriptors than the limit ({hard})")
    compile_sources()
    workdir = Path(tempfile.mkdtemp(prefix="pbk-bench-realtime-"))
    result: dict[str, object] = {
        "meta": {"date": datetime.now(UTC).isoformat(timespec="seconds"), "machine": "2 cores"},
        "runs": [],
    }
    for count in counts:
        for name in [s for s in args.servers.split(",") if s]:
            with bench_database() if name == "pbk-pg" else contextlib.nullcontext() as db_url:
                server = Server(name, db_url=db_url)
                data_dir = workdir / f"{name}-{count}" / "pb_data"
                server.make_superuser(data_dir)
                running = server.start(data_dir, data_dir.parent / "server.log")
                try:
                    run = asyncio.run(_measure(running, count, args.rounds))
                finally:
                    running.stop()
            run["server"] = name
            result["runs"].append(run)  # type: ignore[union-attr]
            print(json.dumps(run), flush=True)
    out = ROOT / "bench" / "results" / f"{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}-realtime.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    table = markdown(result)
    print(table)
    if not args.no_docs:
        update_docs(args.docs, table, start=START, end=END, heading="Realtime fan-out")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
