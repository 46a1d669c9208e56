"""Medians, paired ratios, targets, and the markdown table written into docs/performance.md."""

from __future__ import annotations

import re
import statistics
from pathlib import Path

from .scenarios import LOAD_SCENARIOS, TARGETS

START = "<!-- bench:results:start -->"
END = "<!-- bench:results:end -->"


def _median(values: list[float]) -> float | None:
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def summarise(result: dict) -> None:
    """Add medians per server, the median paired pbk/PocketBase ratios and target verdicts."""
    for name, scenario in result["scenarios"].items():
        servers = scenario["servers"]
        for data in servers.values():
            rounds = data.get("rounds")
            if rounds:
                for key in ("throughput", "p50_ms", "p99_ms"):
                    data[key] = _median([r[key] for r in rounds])
                data["rss_mib"] = max(r["rss_mib"] for r in rounds)
                data["errors"] = sum(r["errors"] for r in rounds)
                data["client_cpu_s"] = sum(r["client_cpu_s"] for r in rounds)
                data["client_cpu_share"] = data["client_cpu_s"] / sum(r["seconds"] for r in rounds)
        if "pbk" not in servers or "pocketbase" not in servers:
            continue
        pbk, pb = servers["pbk"], servers["pocketbase"]
        ratios: dict[str, float | None] = {}
        if pbk.get("rounds"):
            pairs = list(zip(pbk["rounds"], pb["rounds"]))
            ratios["throughput"] = _median([a["throughput"] / b["throughput"]
                                            for a, b in pairs if b["throughput"]])
            ratios["p99"] = _median([a["p99_ms"] / b["p99_ms"] for a, b in pairs if b["p99_ms"]])
            ratios["rss"] = _median([a["rss_mib"] / b["rss_mib"] for a, b in pairs if b["rss_mib"]])
        elif "rss_mib" in pbk:
            ratios["rss"] = pbk["rss_mib"] / pb["rss_mib"] if pb["rss_mib"] else None
        elif "seconds" in pbk:
            ratios["seconds"] = pbk["seconds"] / pb["seconds"] if pb["seconds"] else None
        scenario["ratio"] = ratios
    for name, scenario in result["scenarios"].items():
        verdicts = []
        for metric, kind, bound in TARGETS.get(name, []):
            ratio = scenario.get("ratio", {})
            if kind == "ratio_ge":
                value, met, text = ratio.get(metric), None, f"≥ {bound:g}×"
                met = None if value is None else value >= bound
            elif kind in ("p99_le", "ratio_le"):
                value = ratio.get(metric)
                text = f"p99 ≤ {bound:g}×" if kind == "p99_le" else f"≤ {bound:g}×"
                met = None if value is None else value <= bound
            else:  # abs_lt, pbk's own value
                value = scenario["servers"].get("pbk", {}).get(metric)
                text = f"< {bound:g} s"
                met = None if value is None else value < bound
            verdicts.append({"metric": metric, "target": text, "value": value, "met": met})
        scenario["targets"] = verdicts


def _num(value: float | None, digits: int = 1) -> str:
    if value is None:
        return "–"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.{digits}f}"


def _verdict(scenario: dict) -> str:
    parts = []
    for target in scenario.get("targets", []):
        mark = "?" if target["met"] is None else ("met" if target["met"] else "**MISS**")
        parts.append(f"{target['target']}: {mark}")
    return "; ".join(parts) or "–"


def markdown(result: dict) -> str:
    meta = result["meta"]
    machine = meta["machine"]
    lines = [
        f"Run: {meta['date']} · mode **{meta['mode']}** · {machine['cores']} cores ({machine['cpu']}), "
        f"{machine['memory']} · load generator {meta['loadgen']} · pbk {meta['versions'].get('pbk')}"
        + (f" · PocketBase {meta['versions']['pocketbase']}" if "pocketbase" in meta["versions"] else ""),
        "",
        (f"Config: {meta['config']['posts']:,} posts (and as many notes), {meta['config']['users']} users, "
         f"{meta['config']['duration']:g} s per measurement, {meta['config']['rounds']} rounds, "
         f"{meta['config']['startup_runs']} start-ups; wall time {meta.get('wall_seconds', '?')} s; "
         f"load average at start {meta.get('loadavg_at_start')}, at end {meta.get('loadavg_at_end')}."),
        "",
        ("| scenario | pbk req/s | PB req/s | ratio (median paired) | pbk p50 / p99 ms | PB p50 / p99 ms "
         "| p99 ratio | pbk RSS MiB | PB RSS MiB | client CPU (pbk / PB) | target |"),
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    scenarios = result["scenarios"]
    for load in LOAD_SCENARIOS:
        if load.name not in scenarios:
            continue
        scenario = scenarios[load.name]
        pbk = scenario["servers"].get("pbk", {})
        pb = scenario["servers"].get("pocketbase", {})
        ratio = scenario.get("ratio", {})
        errors = pbk.get("errors", 0) + pb.get("errors", 0)
        flag = f" ⚠ {errors} errors" if errors else ""
        lines.append(
            f"| `{load.name}`{flag} | {_num(pbk.get('throughput'))} | {_num(pb.get('throughput'))} "
            f"| {_num(ratio.get('throughput'), 2)}× "
            f"| {_num(pbk.get('p50_ms'), 2)} / {_num(pbk.get('p99_ms'), 2)} "
            f"| {_num(pb.get('p50_ms'), 2)} / {_num(pb.get('p99_ms'), 2)} "
            f"| {_num(ratio.get('p99'), 2)}× | {_num(pbk.get('rss_mib'))} | {_num(pb.get('rss_mib'))} "
            f"| {_pct(pbk)} / {_pct(pb)} | {_verdict(scenario)} |")
    for idle, label in (("idle_rss", "RSS, summed over processes"), ("idle_pss", "PSS, summed over processes")):
        if idle not in scenarios:
            continue
        scenario = scenarios[idle]
        pbk = scenario["servers"].get("pbk", {})
        pb = scenario["servers"].get("pocketbase", {})
        lines.append(f"| `{idle}` (after seeding; {label}) | | | {_num(scenario.get('ratio', {}).get('rss'), 2)}× | | | "
                     f"| {_num(pbk.get('rss_mib'))} | {_num(pb.get('rss_mib'))} | | {_verdict(scenario)} |")
    if "startup" in scenarios:
        scenario = scenarios["startup"]
        pbk = scenario["servers"].get("pbk", {})
        pb = scenario["servers"].get("pocketbase", {})
        ms = lambda d: _num(d["seconds"] * 1000, 0) + " ms" if "seconds" in d else "–"
        lines.append(f"| `startup` (to healthy `/api/health`, median) | | "
                     f"| {_num(scenario.get('ratio', {}).get('seconds'), 2)}× | {ms(pbk)} | {ms(pb)} "
                     f"| | | | | {_verdict(scenario)} |")
    if "ceiling" in result:
        ceiling = result["ceiling"]
        lines.append(f"| `view` in-process ceiling (APSW + orjson, 1 thread, no HTTP) "
                     f"| {_num(ceiling['throughput'])} | | | {_num(ceiling['p50_ms'], 3)} / "
                     f"{_num(ceiling['p99_ms'], 3)} | | | | | | – |")
    lines += ["", "Realtime fan-out is measured by `python -m bench.realtime` (its own table below)."]
    if meta["loadgen"].startswith("python"):
        lines += ["", ("**These numbers come from the Python fallback load generator and are NOT "
                       "real numbers.**")]
    return "\n".join(lines)


def _pct(data: dict) -> str:
    share = data.get("client_cpu_share")
    return "–" if share is None else f"{share * 100:.0f}%"


def update_docs(path: Path, table: str, *, start: str = START, end: str = END) -> None:
    """Replace what stands between the markers in ``path`` (which must hold both)."""
    text = path.read_text()
    if start not in text or end not in text:
        raise SystemExit(f"{path} lacks the {start} / {end} markers")
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.DOTALL)
    path.write_text(pattern.sub(lambda _: f"{start}\n{table}\n{end}", text, count=1))
