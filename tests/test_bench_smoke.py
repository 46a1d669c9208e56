"""The benchmark harness runs end to end (tiny sizes, pbk only) so it cannot rot.

Uses wrk when installed, else the pure-Python fallback load generator; the numbers mean
nothing here, only that every scenario ran and produced a result.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = {"view", "list_filter_sort", "list_expand_owner", "create_c8", "create_c32",
             "auth_password", "idle_rss", "idle_pss", "startup"}


def test_bench_quick_smoke_against_pbk(tmp_path):
    out = tmp_path / "result.json"
    docs = ROOT / "docs" / "performance.md"
    docs_before = docs.read_text()
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--servers", "pbk", "--posts", "40", "--users", "2",
         "--duration", "1", "--warmup", "0", "--rounds", "1", "--startup-runs", "1",
         "--ceiling-seconds", "0.2", "--connections-cap", "4", "--no-docs", "--out", str(out)],
        cwd=ROOT, check=False, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    result = json.loads(out.read_text())
    assert set(result["scenarios"]) == SCENARIOS
    for name in SCENARIOS - {"idle_rss", "idle_pss", "startup"}:
        pbk = result["scenarios"][name]["servers"]["pbk"]
        assert pbk["throughput"] > 0, name
        assert pbk["rss_mib"] > 0, name
        assert pbk["p99_ms"] >= pbk["p50_ms"] > 0, name
    idle_rss = result["scenarios"]["idle_rss"]["servers"]["pbk"]["rss_mib"]
    idle_pss = result["scenarios"]["idle_pss"]["servers"]["pbk"]["rss_mib"]
    assert 0 < idle_pss <= idle_rss
    assert result["scenarios"]["startup"]["servers"]["pbk"]["seconds"] > 0
    assert result["ceiling"]["throughput"] > 0
    assert "| `view` |" in done.stdout  # the markdown table was rendered
    assert docs.read_text() == docs_before  # --no-docs leaves the docs alone


def test_the_realtime_fanout_runner_measures_every_subscriber(capsys):
    from bench import realtime

    assert realtime.main(["--servers", "pbk", "--subscribers", "20", "--rounds", "1", "--no-docs"]) == 0
    printed = capsys.readouterr().out
    run = json.loads(next(line for line in printed.splitlines() if line.startswith("{")))
    assert run["server"] == "pbk" and run["subscribers"] == 20
    [only] = run["rounds"]
    assert only["received"] == 20 and 0 < only["p99_ms"] < 10_000
    assert "| 20 | pbk | 20/20 |" in printed
