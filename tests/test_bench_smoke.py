"""The benchmark harness runs end to end (tiny sizes) so it cannot rot.

Every load scenario runs on pbk and on the ceiling app (with the Python load generator, whose
runs can be shorter than wrk's one-second minimum), a read and two writes on pbk on PostgreSQL
(its database's CPU, connections and write lock measured, the database dropped), the scale mode on a tiny table (with wrk
when installed), the realtime runner with 20 subscribers, and wrk's scripts against a recording
server. The numbers mean nothing here, only that every scenario ran, answered 2xx and produced
a result, and that a run of error answers is refused.
"""

from __future__ import annotations

import http.server
import json
import subprocess
import sys
import threading
from pathlib import Path
from typing import ClassVar

import pytest

from bench import report
from bench.bulk import TRASH_ID
from bench.loadgen import RequestSpec, run_wrk, wrk_available
from bench.measure import preflight
from bench.postgres import SERVER_URL
from bench.scenarios import LOAD_SCENARIOS, SCALE_SCENARIOS, UPLOAD_BYTES
from bench.seed import Seeded

ROOT = Path(__file__).resolve().parents[1]
SPECIAL = {"idle_rss", "idle_pss", "startup"}


def run_bench(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bench", *args, "--no-docs"], cwd=ROOT, check=False,
                          capture_output=True, text=True, timeout=180)


def assert_measured(scenario: dict, servers: set[str]) -> None:
    assert set(scenario["servers"]) == servers
    for data in scenario["servers"].values():
        assert data["errors"] == 0 and data["invalid_rounds"] == 0
        assert data["throughput"] > 0 and data["rss_mib"] > 0
        assert data["p99_ms"] >= data["p50_ms"] > 0


@pytest.mark.slow
def test_every_scenario_runs_on_pbk_and_on_the_ceiling(tmp_path):
    out = tmp_path / "result.json"
    docs_before = (ROOT / "docs" / "performance.md").read_text()
    done = run_bench("--quick", "--servers", "pbk,ceiling", "--posts", "40", "--users", "2", "--items", "10",
                     "--duration", "0.3", "--warmup", "0", "--rounds", "1", "--startup-runs", "1",
                     "--connections-cap", "4", "--loadgen", "python", "--out", str(out))
    assert done.returncode == 0, done.stdout + done.stderr
    result = json.loads(out.read_text())
    assert set(result["scenarios"]) == {s.name for s in LOAD_SCENARIOS} | SPECIAL
    for scenario in LOAD_SCENARIOS:
        assert_measured(result["scenarios"][scenario.name], {"pbk", "ceiling"})
    idle_rss = result["scenarios"]["idle_rss"]["servers"]["pbk"]["rss_mib"]
    idle_pss = result["scenarios"]["idle_pss"]["servers"]["pbk"]["rss_mib"]
    assert 0 < idle_pss <= idle_rss
    assert result["scenarios"]["startup"]["servers"]["pbk"]["seconds"] > 0
    assert "as installed: every default plugin" in result["meta"]["pbk_setup"]
    assert "| `delete` |" in done.stdout and "on in both" in done.stdout  # the table was rendered
    assert (ROOT / "docs" / "performance.md").read_text() == docs_before  # --no-docs


@pytest.mark.slow
def test_pbk_on_postgresql_is_measured_with_its_database_and_the_database_dropped(tmp_path):
    out = tmp_path / "postgres.json"
    done = run_bench("--quick", "--servers", "pbk,pbk-pg", "--scenarios", "view,create_c8,delete", "--posts", "20",
                     "--users", "2", "--items", "5", "--duration", "0.3", "--warmup", "0", "--rounds", "1",
                     "--startup-runs", "0", "--connections-cap", "2", "--loadgen", "python", "--out", str(out))
    assert done.returncode == 0, done.stdout + done.stderr
    result = json.loads(out.read_text())
    for name in ("view", "create_c8", "delete"):
        scenario = result["scenarios"][name]
        assert_measured(scenario, {"pbk", "pbk-pg"})
        pbk, pg = scenario["servers"]["pbk"], scenario["servers"]["pbk-pg"]
        assert pbk["cpu_ms"] > 0 and "db_cpu_ms" not in pbk
        assert pg["cpu_ms"] > 0 and pg["db_cpu_ms"] >= 0 and pg["db_shared_cpu_ms"] >= 0
        assert 1 <= pg["db_connections"] <= 2 * 8 + 2  # 2 workers' pools (docs/scale-out.md)
        assert scenario["ratio"]["pg_vs_sqlite"] > 0
    assert 0 <= result["scenarios"]["create_c8"]["servers"]["pbk-pg"]["write_lock_held"] <= 1
    assert "write_lock_held" not in result["scenarios"]["view"]["servers"]["pbk-pg"]
    database = result["postgres"]
    assert database["idle_connections"] >= 1 and database["bare_write_ms"]["median"] > 0
    assert "| `delete` |" in done.stdout and "pbk + db = total" in done.stdout  # the PostgreSQL table
    psycopg = pytest.importorskip("psycopg")
    with psycopg.connect(SERVER_URL) as conn:
        left = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database["database"],)).fetchall()
    assert left == []


@pytest.mark.slow
def test_the_scale_mode_seeds_once_and_measures_every_scale_scenario(tmp_path):
    out = tmp_path / "scale.json"
    args = ["--scale", "--scale-rows", "300", "--scale-cache", str(tmp_path / "cache"), "--servers", "pbk",
            "--duration", "1", "--warmup", "0", "--rounds", "1", "--connections-cap", "2"]
    done = run_bench(*args, "--out", str(out))
    assert done.returncode == 0, done.stdout + done.stderr
    result = json.loads(out.read_text())
    [size] = result["sizes"]
    assert size["rows"] == 300 and size["db_mib"] > 0
    for scenario in SCALE_SCENARIOS:
        assert_measured(size["scenarios"][scenario.name], {"pbk"})
    assert "seeded 300 rows" in done.stdout
    again = run_bench(*args, "--scenarios", "scale_view", "--out", str(tmp_path / "again.json"))
    assert again.returncode == 0, again.stdout + again.stderr
    assert "seeded" not in again.stdout  # the second run reuses the cache


class Recorder(http.server.BaseHTTPRequestHandler):
    """Answers 204 to anything and keeps what it was sent."""

    protocol_version = "HTTP/1.1"
    seen: ClassVar[list[tuple[str, str, bytes]]] = []

    def _record(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.seen.append((self.command, self.path, body))
        self.send_response(204)
        self.end_headers()

    do_DELETE = do_POST = _record

    def log_message(self, *args: object) -> None:
        pass


@pytest.mark.skipif(not wrk_available(), reason="wrk is not installed")
def test_wrk_sends_every_delete_to_a_new_id_and_the_whole_upload():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        deletes = RequestSpec("DELETE", [], id_path="/api/collections/trash/records/", first_id=1000)
        result = run_wrk(url, deletes, connections=4, seconds=1, threads=2)
        paths = [path for method, path, _ in Recorder.seen if method == "DELETE"]
        assert result.requests > 0 and len(paths) >= result.requests
        assert len(set(paths)) == len(paths)  # two threads, four connections, never the same id
        assert all(p.removeprefix("/api/collections/trash/records/") >= TRASH_ID.format(1000) for p in paths)
        upload = next(s for s in LOAD_SCENARIOS if s.name == "create_file").build(
            Seeded("", users=[{"id": "u", "email": "e", "token": "t"}]))
        run_wrk(url, upload, connections=1, seconds=1)
        bodies = {body for method, _, body in Recorder.seen if method == "POST"}
        assert bodies == {upload.content(0)} and len(upload.content(0)) > UPLOAD_BYTES
    finally:
        server.shutdown()
        server.server_close()


class Forbidden(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(403)
        self.end_headers()
        self.wfile.write(b'{"status":403,"message":"no"}')

    def log_message(self, *args: object) -> None:
        pass


def test_a_scenario_answered_with_errors_is_refused_before_measuring():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Forbidden)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        with pytest.raises(RuntimeError, match="view on pbk: GET .* answered 403"):
            preflight(url, "view on pbk", RequestSpec("GET", ["/api/collections/posts/records/x"]))
    finally:
        server.shutdown()
        server.server_close()


def test_invalid_rounds_never_enter_a_median_or_a_ratio():
    good = {"throughput": 100.0, "p50_ms": 1.0, "p99_ms": 2.0, "rss_mib": 1.0, "errors": 0,
            "client_cpu_s": 0.1, "seconds": 1.0}
    errors_only = {**good, "throughput": 9_000.0, "errors": 9_000, "invalid": True}
    scenario = {"servers": {"pbk": {"rounds": [errors_only, good]},
                            "pocketbase": {"rounds": [good, good]}}}
    report.summarise_scenario("create_c8", scenario)
    assert scenario["servers"]["pbk"]["throughput"] == 100.0
    assert scenario["servers"]["pbk"]["invalid_rounds"] == 1
    assert scenario["ratio"]["throughput"] == 1.0
    assert [t["met"] for t in scenario["targets"]] == [False, True]  # 1.0× < 1.5×; p99 equal


@pytest.mark.slow
def test_the_realtime_fanout_runner_measures_every_subscriber(capsys):
    from bench import realtime

    assert realtime.main(["--servers", "pbk", "--subscribers", "20", "--rounds", "1", "--no-docs"]) == 0
    printed = capsys.readouterr().out
    run = json.loads(next(line for line in printed.splitlines() if line.startswith("{")))
    assert run["server"] == "pbk" and run["subscribers"] == 20
    [only] = run["rounds"]
    assert only["received"] == 20 and 0 < only["p99_ms"] < 10_000 and only["cpu_ms"] >= 0
    assert "| 20 | pbk | 20/20 |" in printed
