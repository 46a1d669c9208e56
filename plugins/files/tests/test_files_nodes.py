"""Local storage and several nodes: a ``pbk serve`` node on another data dir of the same
PostgreSQL database is refused while files are kept locally, starts once they are on S3, and
S3 cannot be turned off while both serve."""

from __future__ import annotations

import subprocess
import sys
import time

import httpx
import pytest
from pbk_sdk.testing import free_port, make_bucket, s3_settings, start_live_server
from pbk_sdk.testing.nodes import running_nodes

pytestmark = pytest.mark.slow
PLUGINS = ["records", "auth", "files", "settings"]
REFUSAL = "Error: plugin 'files' stopped the start-up: local file storage cannot serve several data dirs"


def save_s3(url: str, token: str, s3: dict) -> httpx.Response:
    return httpx.patch(f"{url}/api/settings", headers={"Authorization": token}, json={"s3": s3}, timeout=30)


def test_local_storage_refuses_a_second_data_dir_and_s3_lets_it_serve(tmp_path, postgres_url, moto_server):
    serve_b = ["--dir", str(tmp_path / "node1"), "--db", postgres_url, "--plugins", ",".join(PLUGINS)]
    with running_nodes(tmp_path, postgres_url, PLUGINS, count=1) as [a]:
        refused = subprocess.run(
            [sys.executable, "-m", "pbk", "serve", "--http", f"127.0.0.1:{free_port()}", *serve_b,
             "--workers", "2"], capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=50, check=False)
        errors = [line for line in refused.stderr.splitlines() if line.startswith("Error:")]
        assert refused.returncode == 1 and len(errors) == 1, refused.stderr
        assert errors[0].startswith(REFUSAL) and str(tmp_path / "node0") in errors[0], errors[0]

        s3 = s3_settings(moto_server, make_bucket(moto_server))
        assert save_s3(a.url, a.token, s3).status_code == 200
        b = start_live_server(tmp_path / "node1", serve_b[2:])
        try:
            for node in (a, b):
                turned_off = save_s3(node.url, a.token, {**s3, "enabled": False})
                assert turned_off.status_code == 400, turned_off.text
                assert turned_off.json()["data"]["s3"]["enabled"]["code"] == "validation_local_storage_shared"
        finally:
            b.stop()
        deadline = time.monotonic() + 5  # node B is gone once it left the cluster
        while (answer := save_s3(a.url, a.token, {**s3, "enabled": False})).status_code == 400 \
                and time.monotonic() < deadline:
            time.sleep(0.2)
        assert answer.status_code == 200, answer.text
