"""The cluster the tests start (``pbk_sdk.testing.cluster_servers``): what the other cluster tests
rely on HAProxy and ``PBK_TEST_NODES`` to do."""

from __future__ import annotations

import collections
from pathlib import Path

import httpx
import pytest
from pbk_sdk.testing.cluster_servers import node_args, nodes_under_test, start_cluster


def test_one_clients_requests_spread_and_a_dead_node_is_left_out(tmp_path: Path, postgres_url: str) -> None:
    cluster = start_cluster([tmp_path / "a" / "pb_data", tmp_path / "b" / "pb_data"],
                            ["--plugins", "records", "--db", postgres_url, "--workers", "1"])
    try:
        with httpx.Client(base_url=cluster.url) as client:  # one keep-alive connection
            nodes = collections.Counter(client.get("/api/health").headers["x-pbk-node"] for _ in range(6))
            assert nodes == {"n1": 3, "n2": 3}
            cluster.kill(0)
            after = [client.get("/api/health") for _ in range(6)]
            assert [(r.status_code, r.headers.get("x-pbk-node")) for r in after] == [(200, "n2")] * 6
            assert cluster.balancer is not None
            cluster.balancer.set_state(1, "maint")
            none_left = client.get("/api/health")
            assert none_left.status_code == 503 and none_left.json() == {
                "status": 503, "message": "Service unavailable: no node is up.", "data": {}}
    finally:
        cluster.stop()
    assert "--- node n1" in cluster.output() and "--- haproxy" in cluster.output()


@pytest.mark.parametrize("engine, nodes, problem", [
    ("sqlite", "3", "needs PBK_TEST_DB=postgresql"),
    ("postgresql", "three", "expected a number of nodes"),
    ("postgresql", "0", "expected a number of nodes"),
])
def test_pbk_test_nodes_is_checked(monkeypatch: pytest.MonkeyPatch, engine: str, nodes: str, problem: str) -> None:
    monkeypatch.setenv("PBK_TEST_DB", engine)
    monkeypatch.setenv("PBK_TEST_NODES", nodes)
    with pytest.raises(RuntimeError, match=problem):
        nodes_under_test()


def test_nodes_run_one_worker_unless_told(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PBK_WORKERS", raising=False)
    assert node_args(["--plugins", "records"]) == ["--plugins", "records", "--workers", "1"]
    assert node_args(["--workers", "2"]) == ["--workers", "2"]
    assert node_args([], {"PBK_WORKERS": "2"}) == []
