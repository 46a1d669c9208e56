"""``python -m bench --scale``: how each cost grows from 10,000 to 1,000,000 records.

One collection, ``big`` (the ``posts`` fields: title, body, views, published, author → users,
tags; public list and view rules, create rule "signed in"; indexes on views, author and
created), seeded once per row count and cached in ``bench/results/scale-cache/<key>/pb_data``
(git-ignored; the key holds ``SCALE_VERSION`` and the row count, so reruns skip seeding):
PocketBase itself makes the superuser, the users and the collection through its API, so the
schema is PocketBase's own; then the rows go straight into ``data.db`` with APSW in one
transaction (``bench/bulk.py``). For each size, each server gets its own copy of that same
``pb_data`` (pbk and PocketBase share the on-disk format; the ceiling serves it too), and the
``SCALE_SCENARIOS`` run on all of them as in the main run. The report gives, per size, the
usual rows, the ``data.db`` size, and how much slower each server got from the small size to
the large one.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import apsw
import httpx

from . import bulk, loadgen, report
from .measure import Loop, log
from .scenarios import SCALE_COLLECTION, SCALE_SCENARIOS
from .seed import TAGS, USER_PASSWORD, WORDS, Seeded, create_all, login, post_fields
from .servers import SUPERUSER, Running, Server

ROOT = Path(__file__).resolve().parents[1]
SCALE_VERSION = "scale-v1-pb0.40.6"  # change it when the seeded data changes
SMALL = 10_000
USERS = 20
START = "<!-- bench:scale:start -->"
END = "<!-- bench:scale:end -->"


def collection() -> dict[str, Any]:
    return {"name": SCALE_COLLECTION, "type": "base", "fields": post_fields(),
            "listRule": "", "viewRule": "", "createRule": '@request.auth.id != ""',
            "updateRule": None, "deleteRule": None,
            "indexes": [f"CREATE INDEX idx_{SCALE_COLLECTION}_views ON {SCALE_COLLECTION} (views)",
                        f"CREATE INDEX idx_{SCALE_COLLECTION}_author ON {SCALE_COLLECTION} (author)",
                        f"CREATE INDEX idx_{SCALE_COLLECTION}_created ON {SCALE_COLLECTION} (created)"]}


async def _create_schema(url: str) -> list[str]:
    """Users and the collection, through PocketBase's API; returns the user ids."""
    async with httpx.AsyncClient(base_url=url, timeout=60.0) as client:
        admin = {"Authorization": (await login(client, "_superusers", *SUPERUSER))["token"]}
        response = await client.post("/api/collections", json=collection(), headers=admin)
        if response.status_code != 200:
            raise RuntimeError(f"creating {SCALE_COLLECTION}: {response.status_code} {response.text}")
        bodies = [{"email": f"user{n}@example.com", "password": USER_PASSWORD,
                   "passwordConfirm": USER_PASSWORD, "verified": True} for n in range(USERS)]
        return await create_all(client, "/api/collections/users/records", bodies, admin, 4)


def _rows(count: int, user_ids: list[str]):
    """``count`` rows in PocketBase's format, oldest first, a second apart."""
    rng = random.Random(20250402)
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
    start = datetime(2025, 1, 1, tzinfo=UTC)
    for n in range(count):
        stamp = bulk.pb_time(start + timedelta(seconds=n))
        yield ("".join(rng.choices(alphabet, k=15)),
               " ".join(rng.choices(WORDS, k=rng.randint(3, 8))),
               " ".join(rng.choices(WORDS, k=rng.randint(10, 30))),
               rng.randint(0, 10_000), int(rng.random() < 0.7), rng.choice(user_ids),
               "[" + ",".join(f'"{t}"' for t in sorted(rng.sample(TAGS, rng.randint(0, 3)))) + "]",
               stamp, stamp)


def seeded_data(cache: Path, rows: int) -> Path:
    """The cached ``pb_data`` with ``rows`` records, made first if missing."""
    folder = cache / f"{SCALE_VERSION}-{rows}"
    if (folder / "pb_data" / "data.db").is_file():
        return folder / "pb_data"
    partial = cache / f"{folder.name}.partial"
    shutil.rmtree(partial, ignore_errors=True)
    data_dir = partial / "pb_data"
    began = time.perf_counter()
    pocketbase = Server("pocketbase")
    pocketbase.make_superuser(data_dir)
    running = pocketbase.start(data_dir, partial / "server.log")
    try:
        user_ids = asyncio.run(_create_schema(running.url))
    finally:
        running.stop()
    columns = ("id", "title", "body", "views", "published", "author", "tags", "created", "updated")
    bulk.insert(data_dir / "data.db", SCALE_COLLECTION, columns, _rows(rows, user_ids))
    connection = apsw.Connection(str(data_dir / "data.db"))
    connection.pragma("wal_checkpoint", "TRUNCATE")  # no ANALYZE: an API-made table has no stats
    connection.close()
    partial.rename(folder)
    log(f"scale: seeded {rows:,} rows in {time.perf_counter() - began:.1f} s into {folder}")
    return folder / "pb_data"


def sample_ids(data_db: Path, count: int = 200) -> list[str]:
    connection = apsw.Connection(str(data_db), flags=apsw.SQLITE_OPEN_READONLY)
    try:
        total = connection.execute(f"SELECT max(rowid) FROM `{SCALE_COLLECTION}`").fetchone()[0]
        step = max(1, total // count)
        return [row[0] for row in connection.execute(
            f"SELECT id FROM `{SCALE_COLLECTION}` WHERE rowid % ? = 0 LIMIT ?", (step, count))]
    finally:
        connection.close()


def _seeded(running: Running, ids: list[str]) -> Seeded:
    async def sign_in() -> dict[str, Any]:
        async with httpx.AsyncClient(base_url=running.url, timeout=60.0) as client:
            return await login(client, "users", "user0@example.com", USER_PASSWORD)

    answer = asyncio.run(sign_in())
    return Seeded(superuser_token="", post_ids=ids, users=[
        {"id": answer["record"]["id"], "email": "user0@example.com", "token": answer["token"]}])


def run_size(rows: int, servers: dict[str, Server], args: argparse.Namespace, run_load: Any,
             workdir: Path) -> tuple[dict[str, Any], list[str]]:
    from .run import chosen

    scenarios = chosen(SCALE_SCENARIOS, args)
    source = seeded_data(args.scale_cache, rows)
    data_db = source / "data.db"
    size = {"rows": rows, "db_mib": data_db.stat().st_size / 2**20, "scenarios": {}}
    ids = sample_ids(data_db)
    running: dict[str, Running] = {}
    try:
        for name, server in servers.items():
            data_dir = workdir / f"{rows}" / name / "pb_data"
            shutil.copytree(source, data_dir)
            running[name] = server.start(data_dir, data_dir.parent / "server.log")
        seeded = {n: _seeded(r, ids) for n, r in running.items() if n != "ceiling"}
        if "ceiling" in running:
            seeded["ceiling"] = next(iter(seeded.values()), None) or _seeded(running["ceiling"], ids)
        loop = Loop(running, run_load, threads=args.threads)
        specs = {(s.name, n): s.build(seeded[n]) for s in scenarios for n in running}
        label = f"{rows:,} rows: "
        results = loop.measure(scenarios, specs, rounds=args.rounds, seconds=args.duration,
                               warmup=args.warmup, label=label)
    finally:
        for server_process in running.values():
            server_process.stop()
        shutil.rmtree(workdir / f"{rows}", ignore_errors=True)
    for scenario in scenarios:
        size["scenarios"][scenario.name] = {"title": scenario.title, "kind": scenario.kind,
                                            "connections": scenario.connections,
                                            "servers": {n: {"rounds": results[scenario.name][n]} for n in running}}
    return size, loop.invalid


def growth(small: dict[str, Any], large: dict[str, Any]) -> dict[str, dict[str, float | None]]:
    """Per scenario and server: mean request time at the large size ÷ at the small size."""
    out: dict[str, dict[str, float | None]] = {}
    for name, scenario in large["scenarios"].items():
        out[name] = {}
        for server, data in scenario["servers"].items():
            before = small["scenarios"].get(name, {}).get("servers", {}).get(server, {}).get("throughput")
            after = data.get("throughput")
            out[name][server] = before / after if before and after else None
    return out


def markdown(result: dict[str, Any]) -> str:
    meta = result["meta"]
    lines = [
        (f"Scale run: {meta['date']} · {meta['machine']['cores']} cores · load generator {meta['loadgen']} · "
        f"pbk {meta['versions'].get('pbk')} · {meta['config']['duration']:g} s per measurement, "
        f"{meta['config']['rounds']} rounds · wall time {meta.get('wall_seconds', '?')} s"),
        "",
        f"pbk: {meta['pbk_setup']}. {report.LOGGING_NOTE}",
        "",
        "| rows | `data.db` MiB |",
        "|---:|---:|",
        *[f"| {s['rows']:,} | {s['db_mib']:,.1f} |" for s in result["sizes"]],
        "",
        *report.LOAD_HEADER,
    ]
    for size in result["sizes"]:
        lines += report.load_rows(size["scenarios"], [s.name for s in SCALE_SCENARIOS], f"{size['rows']:,}: ")
    if "growth" in result:
        small, large = (f"{s['rows']:,}" for s in (result["sizes"][0], result["sizes"][-1]))
        lines += ["", (f"Growth, {small} → {large} rows: how many times longer one request takes "
                      "(throughput at the small size ÷ at the large one; 1.0 = no growth)."), "",
                  "| scenario | pbk | PocketBase | ceiling |", "|---|---:|---:|---:|"]
        for name, servers in result["growth"].items():
            cells = " | ".join(_times(servers.get(n)) for n in ("pbk", "pocketbase", "ceiling"))
            lines.append(f"| `{name}` | {cells} |")
    return "\n".join(lines)


def _times(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}×"


def main(args: argparse.Namespace) -> int:
    from .run import machine, make_servers, pbk_setup, versions, write_result

    servers = make_servers(args)
    if "pbk-pg" in servers:
        raise SystemExit("--scale copies one SQLite pb_data to every server: pbk-pg is not part of it")
    label, run_load = loadgen.choose(args.loadgen)
    started_at = datetime.now(UTC)
    sizes = sorted({min(SMALL, args.scale_rows), args.scale_rows})
    log(f"scale run: {', '.join(f'{n:,}' for n in sizes)} rows; servers {', '.join(servers)}; pbk: {pbk_setup(args)}")
    result: dict[str, Any] = {
        "meta": {"date": started_at.isoformat(timespec="seconds"), "mode": "scale", "machine": machine(),
                 "versions": versions(servers), "loadgen": label, "pbk_setup": pbk_setup(args),
                 "config": {"rows": sizes, "duration": args.duration, "rounds": args.rounds,
                            "warmup": args.warmup, "pbk_arg": args.pbk_arg, "pbk_plugins": args.pbk_plugins},
                 "loadavg_at_start": [round(x, 2) for x in os.getloadavg()]},
        "sizes": [],
    }
    workdir = Path(tempfile.mkdtemp(prefix="pbk-bench-scale-"))
    invalid: list[str] = []
    try:
        for rows in sizes:
            size, failed = run_size(rows, servers, args, run_load, workdir)
            invalid += failed
            for name, scenario in size["scenarios"].items():
                report.summarise_scenario(name, scenario)
            result["sizes"].append(size)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    if len(sizes) > 1:
        result["growth"] = growth(result["sizes"][0], result["sizes"][-1])
    result["meta"]["wall_seconds"] = round((datetime.now(UTC) - started_at).total_seconds(), 1)
    write_result(result, args.out, "scale" + ("-reduced" if args.pbk_plugins else ""))
    table = markdown(result)
    print(table)
    if args.pbk_plugins:
        log("a reduced plugin set is never the headline: docs/performance.md left alone")
    elif not args.no_docs:
        report.update_docs(args.docs, table, start=START, end=END,
                           heading="Scale: 10,000 to 1,000,000 records")
        log(f"scale table written into {args.docs}")
    for line in invalid:
        log("INVALID (left out of every median): " + line)
    return 3 if invalid else 0
