"""A console query that runs past the timeout is interrupted, and the worker answers meanwhile."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from pbk_sdk.testing.pocketbase import superuser_token
from pbk_sdk.testing.postgres import engine_under_test
from pbk_sdk.testing.programs import SUPERUSER_EMAIL, SUPERUSER_PASSWORD, pbk_command_superuser

pytestmark = pytest.mark.skipif(engine_under_test() == "postgresql", reason="SQLite's interrupt; test_sql_postgres tests PostgreSQL's statement_timeout")

PLUGINS = ["records", "auth", "sql"]
ENDLESS = "with recursive n(i) as (select 1 union all select i + 1 from n) select count(*) from n"
INTERRUPTED = "Failed to execute query. Raw error:\ninterrupted (9)."


@pytest.mark.slow
@pytest.mark.parametrize("query", [ENDLESS, f"create table counted as {ENDLESS}"], ids=["read", "write"])
def test_a_long_query_stops_at_the_timeout_while_health_answers(
    tmp_path: Path, live_server_factory: Any, query: str
) -> None:
    data_dir = tmp_path / "pb_data"
    pbk_command_superuser(data_dir, PLUGINS, SUPERUSER_EMAIL, SUPERUSER_PASSWORD)
    server = live_server_factory(["--plugins", ",".join(PLUGINS)], env={"PBK_SQL_TIMEOUT": "2"})
    token = superuser_token(server.url, SUPERUSER_EMAIL, SUPERUSER_PASSWORD)
    with httpx.Client(base_url=server.url, headers={"Authorization": token}, timeout=30) as client, \
            ThreadPoolExecutor(1) as pool:
        started = time.monotonic()
        running = pool.submit(client.post, "/api/sql", json={"query": query})
        time.sleep(0.5)
        health = client.get("/api/health")
        assert health.status_code == 200 and not running.done()
        answer = running.result()
        assert 2 <= time.monotonic() - started < 10
        assert answer.status_code == 400 and answer.json()["message"] == INTERRUPTED
        tables = client.post("/api/sql", json={"query": "select name from sqlite_master where name = 'counted'"})
        assert tables.json()["rows"] == []
