"""Medians, paired ratios, targets, and the markdown tables written into docs/performance.md."""

from __future__ import annotations

import re
import statistics
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .scenarios import LOAD_SCENARIOS, TARGETS, THROUGHPUT_TARGET

START = "<!-- bench:results:start -->"
END = "<!-- bench:results:end -->"
POSTGRES_START = "<!-- bench:postgres:start -->"
POSTGRES_END = "<!-- bench:postgres:end -->"
LOGGING_NOTE = ("Request logging: **on in both**, as installed (their default: a row per request in "
                "`auxiliary.db` `_logs`, written in batches off the request path).")
TARGETS_NOTE = ("Targets (issue 14, median paired ratio pbk ÷ PocketBase, pbk as installed): every "
                f"write ≥ {THROUGHPUT_TARGET['write']:g}×, reads ≥ {THROUGHPUT_TARGET['read']:g}×, "
                f"auth ≥ {THROUGHPUT_TARGET['auth']:g}×, every p99 ≤ PocketBase's; idle PSS ≤ 1.5×; "
                "start-up < 0.5 s; realtime fan-out at 10,000 subscribers: p99 and RSS ≤ PocketBase's "
                "(its own table). The ceiling column is bare Falcon + uvicorn + APSW + orjson "
                "(`bench/ceiling_app.py`, same workers as pbk) doing the same SQL with no auth, rules "
                "or events: pbk ÷ ceiling is how much of Python's best pbk reaches.")


def _median(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


def _valid(rounds: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in rounds if not r.get("invalid")]


def _paired(a: list[dict[str, Any]], b: list[dict[str, Any]], key: str) -> float | None:
    """Median over rounds of a[key] / b[key], rounds where either was invalid left out."""
    return _median([x[key] / y[key] for x, y in zip(a, b)
                    if not x.get("invalid") and not y.get("invalid") and y[key]])


def summarise_scenario(name: str, scenario: dict[str, Any]) -> None:
    """Medians per server, the paired ratios (pbk ÷ PocketBase, pbk ÷ ceiling) and verdicts."""
    servers = scenario["servers"]
    for data in servers.values():
        rounds = data.get("rounds")
        if rounds:
            valid = _valid(rounds)
            for key in ("throughput", "p50_ms", "p99_ms"):
                data[key] = _median([r[key] for r in valid])
            data["rss_mib"] = max(r["rss_mib"] for r in rounds)
            data["errors"] = sum(r["errors"] for r in rounds)
            data["invalid_rounds"] = len(rounds) - len(valid)
            data["client_cpu_s"] = sum(r["client_cpu_s"] for r in rounds)
            data["client_cpu_share"] = data["client_cpu_s"] / sum(r["seconds"] or 1 for r in rounds)
            _costs(data, valid)
    ratios: dict[str, float | None] = {}
    pbk, pb, ceiling = servers.get("pbk", {}), servers.get("pocketbase", {}), servers.get("ceiling", {})
    if pbk.get("rounds") and pb.get("rounds"):
        ratios["throughput"] = _paired(pbk["rounds"], pb["rounds"], "throughput")
        ratios["p99"] = _paired(pbk["rounds"], pb["rounds"], "p99_ms")
    elif "rss_mib" in pbk and "rss_mib" in pb:
        ratios["rss"] = pbk["rss_mib"] / pb["rss_mib"] if pb["rss_mib"] else None
    elif "seconds" in pbk and "seconds" in pb:
        ratios["seconds"] = pbk["seconds"] / pb["seconds"] if pb["seconds"] else None
    if pbk.get("rounds") and ceiling.get("rounds"):
        ratios["ceiling"] = _paired(pbk["rounds"], ceiling["rounds"], "throughput")
    postgres = servers.get("pbk-pg", {})
    for other, key in ((pb, "pg_vs_pb"), (pbk, "pg_vs_sqlite")):
        if postgres.get("rounds") and other.get("rounds"):
            ratios[key] = _paired(postgres["rounds"], other["rounds"], "throughput")
    scenario["ratio"] = ratios
    scenario["targets"] = [_verdict_of(scenario, *target) for target in TARGETS.get(name, [])]


def _per_request_ms(rounds: list[dict[str, Any]], key: str) -> float | None:
    """Median over rounds of ``key`` (seconds) per request, in ms: CPU s per 1,000 requests."""
    return _median([r[key] / r["requests"] * 1000 for r in rounds if r.get(key) is not None and r["requests"]])


def _costs(data: dict[str, Any], valid: list[dict[str, Any]]) -> None:
    """CPU per request (server, database backends, the database server's shared processes),
    the database connections held, and the write lock's hold time per request."""
    for key, name in (("server_cpu_s", "cpu_ms"), ("db_cpu_s", "db_cpu_ms"), ("db_shared_cpu_s", "db_shared_cpu_ms")):
        value = _per_request_ms(valid, key)
        if value is not None:
            data[name] = value
    connections = [r["db_connections"] for r in valid if r.get("db_connections") is not None]
    if connections:
        data["db_connections"] = max(connections)
    held = [r for r in valid if r.get("write_lock_held") is not None and r["requests"]]
    if held:
        data["write_lock_held"] = _median([r["write_lock_held"] for r in held])
        data["write_lock_ms"] = _median([r["write_lock_held"] * r["seconds"] / r["requests"] * 1000 for r in held])


def _verdict_of(scenario: dict[str, Any], metric: str, kind: str, bound: float) -> dict[str, Any]:
    ratio = scenario.get("ratio", {})
    if kind == "ratio_ge":
        value, text = ratio.get(metric), f"≥ {bound:g}×"
        met = None if value is None else value >= bound
    elif kind in ("p99_le", "ratio_le"):
        value = ratio.get(metric)
        text = f"p99 ≤ {bound:g}×" if kind == "p99_le" else f"≤ {bound:g}×"
        met = None if value is None else value <= bound
    else:  # abs_lt, pbk's own value
        value = scenario["servers"].get("pbk", {}).get(metric)
        text = f"< {bound:g} s"
        met = None if value is None else value < bound
    return {"metric": metric, "target": text, "value": value, "met": met}


def summarise(result: dict[str, Any]) -> None:
    for name, scenario in result["scenarios"].items():
        summarise_scenario(name, scenario)


def _num(value: float | None, digits: int = 1) -> str:
    if value is None:
        return "–"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.{digits}f}"


def _verdict(scenario: dict[str, Any]) -> str:
    parts = []
    for target in scenario.get("targets", []):
        mark = "?" if target["met"] is None else ("met" if target["met"] else "**MISS**")
        parts.append(f"{target['target']}: {mark}")
    return "; ".join(parts) or "–"


def _pct(data: dict[str, Any]) -> str:
    share = data.get("client_cpu_share")
    return "–" if share is None else f"{share * 100:.0f}%"


LOAD_HEADER = [
    ("| scenario | pbk req/s | PB req/s | pbk ÷ PB (median paired) | ceiling req/s | pbk ÷ ceiling "
     "| pbk p50 / p99 ms | PB p50 / p99 ms | p99 ratio | pbk RSS MiB | PB RSS MiB "
     "| client CPU (pbk / PB) | target |"),
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
]


def load_rows(scenarios: dict[str, Any], names: Sequence[str], label: str = "") -> list[str]:
    """One table row per load scenario in ``names`` that was measured."""
    lines = []
    for name in names:
        if name not in scenarios:
            continue
        scenario = scenarios[name]
        pbk = scenario["servers"].get("pbk", {})
        pb = scenario["servers"].get("pocketbase", {})
        ceiling = scenario["servers"].get("ceiling", {})
        ratio = scenario.get("ratio", {})
        errors = sum(s.get("errors", 0) for s in scenario["servers"].values())
        invalid = sum(s.get("invalid_rounds", 0) for s in scenario["servers"].values())
        flag = (f" ⚠ {errors} errors" if errors else "") + (f", **{invalid} INVALID rounds**" if invalid else "")
        lines.append(
            f"| {label}`{name}`{flag} | {_num(pbk.get('throughput'))} | {_num(pb.get('throughput'))} "
            f"| {_num(ratio.get('throughput'), 2)}× | {_num(ceiling.get('throughput'))} "
            f"| {_num(ratio.get('ceiling'), 2)}× "
            f"| {_num(pbk.get('p50_ms'), 2)} / {_num(pbk.get('p99_ms'), 2)} "
            f"| {_num(pb.get('p50_ms'), 2)} / {_num(pb.get('p99_ms'), 2)} "
            f"| {_num(ratio.get('p99'), 2)}× | {_num(pbk.get('rss_mib'))} | {_num(pb.get('rss_mib'))} "
            f"| {_pct(pbk)} / {_pct(pb)} | {_verdict(scenario)} |")
    return lines


def markdown(result: dict[str, Any]) -> str:
    meta = result["meta"]
    machine = meta["machine"]
    config = meta["config"]
    lines = [
        f"Run: {meta['date']} · mode **{meta['mode']}** · {machine['cores']} cores ({machine['cpu']}), "
        f"{machine['memory']} · load generator {meta['loadgen']} · pbk {meta['versions'].get('pbk')}"
        + (f" · PocketBase {meta['versions']['pocketbase']}" if "pocketbase" in meta["versions"] else ""),
        "",
        f"pbk: {meta.get('pbk_setup', '?')}. {LOGGING_NOTE}",
        "",
        (f"Config: {config['posts']:,} posts (and as many notes), {config['users']} users, "
         f"{config.get('items', 0):,} items, {config['duration']:g} s per measurement, "
         f"{config['rounds']} rounds, {config['startup_runs']} start-ups; wall time "
         f"{meta.get('wall_seconds', '?')} s; load average at start {meta.get('loadavg_at_start')}, "
         f"at end {meta.get('loadavg_at_end')}."),
        "",
        TARGETS_NOTE,
        "",
        *LOAD_HEADER,
    ]
    scenarios = result["scenarios"]
    lines += load_rows(scenarios, [s.name for s in LOAD_SCENARIOS])
    for idle, label in (("idle_rss", "RSS, summed over processes; no target"),
                        ("idle_pss", "PSS, summed over processes")):
        if idle not in scenarios:
            continue
        scenario = scenarios[idle]
        pbk = scenario["servers"].get("pbk", {})
        pb = scenario["servers"].get("pocketbase", {})
        lines.append(f"| `{idle}` (after seeding; {label}) | | | {_num(scenario.get('ratio', {}).get('rss'), 2)}× "
                     f"| | | | | | {_num(pbk.get('rss_mib'))} | {_num(pb.get('rss_mib'))} | | {_verdict(scenario)} |")
    if "startup" in scenarios:
        scenario = scenarios["startup"]
        pbk = scenario["servers"].get("pbk", {})
        pb = scenario["servers"].get("pocketbase", {})

        def ms(data: dict[str, Any]) -> str:
            return _num(data["seconds"] * 1000, 0) + " ms" if "seconds" in data else "–"

        lines.append(f"| `startup` (to healthy `/api/health`, median) | | "
                     f"| {_num(scenario.get('ratio', {}).get('seconds'), 2)}× | | | {ms(pbk)} | {ms(pb)} "
                     f"| | | | | {_verdict(scenario)} |")
    lines += ["", ("`batch50` counts batches (50 creates each). Realtime fan-out is measured by "
                  "`python -m bench.realtime` and the growth from 10k to 1M records by "
                  "`python -m bench --scale` (their own tables below).")]
    if meta["loadgen"].startswith("python"):
        lines += ["", ("**These numbers come from the Python fallback load generator and are NOT "
                       "real numbers.**")]
    return "\n".join(lines)


POSTGRES_HEADER = [
    ("| scenario | PB req/s | pbk SQLite req/s | pbk PG req/s | PG ÷ PB | PG ÷ SQLite "
     "| CPU ms/req PB | CPU ms/req pbk SQLite | CPU ms/req pbk PG: pbk + db = total | db share "
     "| PG server's shared ms/req | pbk PG p50 / p99 ms | write lock held (ms/req) |"),
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
]


def postgres_rows(scenarios: dict[str, Any]) -> list[str]:
    lines = []
    for name in [s.name for s in LOAD_SCENARIOS]:
        if name not in scenarios or "pbk-pg" not in scenarios[name]["servers"]:
            continue
        scenario = scenarios[name]
        servers, ratio = scenario["servers"], scenario.get("ratio", {})
        pb, pbk, pg = servers.get("pocketbase", {}), servers.get("pbk", {}), servers["pbk-pg"]
        invalid = sum(s.get("invalid_rounds", 0) for s in servers.values())
        flag = f" **{invalid} INVALID rounds**" if invalid else ""
        own, db = pg.get("cpu_ms"), pg.get("db_cpu_ms")
        total = own + db if own is not None and db is not None else None
        share = f"{db / total * 100:.0f}%" if total else "–"
        lock = (f"{pg['write_lock_held'] * 100:.0f}% ({pg['write_lock_ms']:.2f})"
                if pg.get("write_lock_ms") is not None else "–")
        lines.append(
            f"| `{name}`{flag} | {_num(pb.get('throughput'))} | {_num(pbk.get('throughput'))} "
            f"| {_num(pg.get('throughput'))} | {_num(ratio.get('pg_vs_pb'), 2)}× "
            f"| {_num(ratio.get('pg_vs_sqlite'), 2)}× | {_num(pb.get('cpu_ms'), 2)} | {_num(pbk.get('cpu_ms'), 2)} "
            f"| {_num(own, 2)} + {_num(db, 2)} = {_num(total, 2)} | {share} "
            f"| {_num(pg.get('db_shared_cpu_ms'), 2)} | {_num(pg.get('p50_ms'), 2)} / {_num(pg.get('p99_ms'), 2)} "
            f"| {lock} |")
    return lines


def _bare(database: dict[str, Any]) -> str:
    bare = database.get("bare_write_ms")
    return f"{bare['median']:.2f} ({bare['p90']:.2f})" if bare else "?"


def postgres_markdown(result: dict[str, Any]) -> str:
    """The PostgreSQL table: the three servers' throughput and CPU per request, pbk PG's split
    into pbk's CPU and its database backends', the connections and the write lock."""
    meta, database = result["meta"], result.get("postgres", {})
    settings = database.get("settings", {})
    connections = [s["servers"]["pbk-pg"].get("db_connections") for s in result["scenarios"].values()
                   if "pbk-pg" in s.get("servers", {})]
    peak = max((c for c in connections if c is not None), default=None)
    lines = [
        (f"Run: {meta['date']} · mode **{meta['mode']}** · {meta['machine']['cores']} cores · load generator "
         f"{meta['loadgen']} · pbk {meta['versions'].get('pbk')} · PostgreSQL "
         f"{meta['versions'].get('postgresql', '?')} on the same machine · load average at start "
         f"{meta.get('loadavg_at_start')}, at end {meta.get('loadavg_at_end')}"),
        "",
        (f"pbk PG: {meta.get('pbk_setup', '?')}. PostgreSQL settings: "
         + ", ".join(f"{k} {v}" for k, v in settings.items()) + ". "
         f"Connections pbk PG held to its database: {database.get('idle_connections', '?')} idle after "
         f"seeding, {peak if peak is not None else '?'} at most after a load. A bare write transaction as "
         f"pbk sends it (`BEGIN; SELECT pg_advisory_xact_lock(…)`, one INSERT, `COMMIT`; one client, "
         f"one after the other, nothing else in it) took {_bare(database)} ms (median; p90): the "
         "database's own part of each write's hold on the lock."),
        "",
        ("CPU ms/req is CPU seconds per 1,000 requests (median over rounds), from the load's start until "
         "the server is idle again: the server's process tree from `/proc`, and for pbk PG also the "
         "PostgreSQL backends serving its database (`pg_stat_activity` pids of that database, harness "
         "connections excluded). The PostgreSQL server's WAL writer, checkpointer and background writer "
         "serve every database of the server and are kept apart. Write lock: the share of 10 ms samples "
         "of `pg_locks` in which app.db's advisory write lock was held, and that share × the run's "
         "seconds ÷ its requests: the lock's hold time per request."),
        "",
        *POSTGRES_HEADER,
        *postgres_rows(result["scenarios"]),
    ]
    if meta["loadgen"].startswith("python"):
        lines += ["", "**These numbers come from the Python fallback load generator and are NOT real numbers.**"]
    return "\n".join(lines)


def update_docs(path: Path, table: str, *, start: str = START, end: str = END,
                heading: str | None = None) -> None:
    """Replace what stands between the markers in ``path``; with a ``heading``, markers it lacks
    are added at the end under that heading, else they must be there."""
    text = path.read_text()
    if heading and start not in text:
        text = text.rstrip() + f"\n\n## {heading}\n\n{start}\n{end}\n"
    if start not in text or end not in text:
        raise SystemExit(f"{path} lacks the {start} / {end} markers")
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.DOTALL)
    path.write_text(pattern.sub(lambda _: f"{start}\n{table}\n{end}", text, count=1))
