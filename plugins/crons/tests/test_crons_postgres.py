"""PocketBase's system jobs with the data in PostgreSQL (the real one at 127.0.0.1:5432, a fresh
database per test): the DB job runs ``ANALYZE`` there; the MFA and OTP cleanups delete as on
SQLite (the same test, run on PostgreSQL)."""

from __future__ import annotations

from typing import Any

import pytest
from test_crons_cleanup import (  # noqa: F401 - collected here too, on PostgreSQL
    eventually_equal,
    test_the_cleanup_job_deletes_rows_older_than_their_collections_duration,
)


@pytest.fixture
def pbk_config(pbk_config: dict[str, Any], postgres_url: str) -> dict[str, Any]:
    return {**pbk_config, "db": postgres_url}


async def test_the_db_job_analyzes_the_database(pbk_app: Any, pbk_client: Any, pbk_superuser: Any,
                                                caplog: pytest.LogCaptureFixture) -> None:
    assert pbk_app.db.engine == "postgresql"
    analyzed = "SELECT count(*) FROM pg_stat_user_tables WHERE relname = '_collections' AND last_analyze IS NOT NULL"
    assert await pbk_app.db.read(lambda conn: conn.execute(analyzed).get) == 0
    answer = await pbk_client.post("/api/crons/__pbDBOptimize__", headers=pbk_superuser.headers)
    assert answer.status_code == 204

    async def done() -> Any:
        return await pbk_app.db.read(lambda conn: conn.execute(analyzed).get)

    await eventually_equal(done, 1)
    assert "failed" not in caplog.text
