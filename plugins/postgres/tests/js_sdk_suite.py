"""The project's end-to-end tests through the official JS SDK, run on PostgreSQL by
``test_js_sdk_on_postgresql.py`` (one node) and ``test_js_sdk_on_a_cluster.py`` (three nodes behind
HAProxy: with ``PBK_TEST_NODES=3`` every live server those tests start is three ``pbk serve`` on
its data dir and database, HAProxy's URL standing for it). Two modules, so that pytest-xdist
runs them on either worker.

Each run is a pytest of its own (``-n 0``), so the environment picks the engine and the nodes
for every server the tests start, module fixtures included. The tests are split in two groups
per run to stay near a minute each.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]

#: The tests that drive a live pbk through the JS SDK (npm ``pocketbase``), by group. Left out:
#: the other tests of these modules (a worker's reload, CLI commands, a data dir PocketBase
#: wrote, each already run on PostgreSQL by the suite under ``PBK_TEST_DB=postgresql``) and
#: the OAuth2 flows run against the real PocketBase binary (the same whatever pbk's backend).
GROUPS = {
    "records-auth-files-hooks": [
        "plugins/records/tests/test_js_sdk.py",
        "plugins/auth/tests/test_auth_live.py::test_js_sdk_end_to_end",
        "plugins/files/tests/test_files_live.py::test_js_sdk_files",
        "plugins/hooks/tests/test_hooks_live.py::test_routes_and_errors_through_js_sdk",
        "plugins/hooks/tests/test_hooks_live.py::test_realtime_message_through_js_sdk",
    ],
    "realtime-oauth2": [
        "plugins/realtime/tests/test_realtime_js.py",
        "plugins/oauth2/tests/test_oauth2_js.py::test_auth_with_oauth2_code[pbk]",
        "plugins/oauth2/tests/test_oauth2_js.py::test_auth_with_oauth2_in_one_call[pbk]",
        "plugins/oauth2/tests/test_oauth2_js.py::test_auth_with_oauth2_in_one_call_across_workers",
        "plugins/oauth2/tests/test_oauth2_js.py::test_the_redirect_reaches_the_client_on_either_worker",
    ],
}


def run_js_sdk_tests(nodes: int, group: str) -> None:
    """Run ``GROUPS[group]`` on PostgreSQL with ``nodes`` nodes per server; fails with their
    output unless every test passed."""
    env = {name: value for name, value in os.environ.items()
           if name not in ("PBK_DB", "PBK_TEST_NODES") and not name.startswith("PYTEST_")}
    env.update(PBK_TEST_DB="postgresql", PBK_TEST_NODES=str(nodes))
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-n", "0", "-p", "no:cacheprovider", *GROUPS[group]],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)
    summary = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""
    assert done.returncode == 0, f"{summary}\n{done.stdout[-20000:]}\n{done.stderr[-5000:]}"
    assert " passed" in summary and "failed" not in summary and "error" not in summary, summary
