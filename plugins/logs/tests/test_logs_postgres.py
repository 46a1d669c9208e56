"""``_logs`` on the real PostgreSQL at 127.0.0.1:5432: the table pbk creates there, the batch
insert, the hourly stats and the retention deletes (one fresh database for these), and the API's
tests run on PostgreSQL (a fresh database per test)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from pbk_logs.resources import HOUR_POSTGRES
from pbk_logs.retention import delete_old, delete_unwanted
from pbk_logs.rows import AppEntry, insert_entries_postgres, timestamp
from pbk_logs.schema import create_logs_table_postgres, has_logs_table_postgres, item
from pbk_postgres import PgConnection
from pbk_sdk.testing import postgres_database
from test_logs_api import (  # noqa: F401 - collected here too, on PostgreSQL
    seeded,
    test_delete_all,
    test_hourly_stats,
    test_item_and_missing_item,
    test_list_filters_sorts_and_pages,
    test_only_superusers,
    test_the_cleanup_job_deletes_rows_older_than_max_days,
)

DAY = 86400.0


@pytest.fixture
def pbk_config(pbk_config: dict[str, Any], postgres_url: str) -> dict[str, Any]:
    return {**pbk_config, "db": postgres_url}


@pytest.fixture(scope="module")
def conn() -> Iterator[PgConnection]:
    with postgres_database() as url:
        connection = PgConnection.connect(url)
        try:
            yield connection
        finally:
            connection.close()


@pytest.fixture
def logs(conn: PgConnection) -> Iterator[PgConnection]:
    """An empty ``_logs``, created as the migration creates it."""
    create_logs_table_postgres(conn)
    try:
        yield conn
    finally:
        conn.execute('DROP TABLE "_logs"')


def test_the_table_is_created_once_and_found(conn: PgConnection) -> None:
    assert not has_logs_table_postgres(conn)
    create_logs_table_postgres(conn)
    create_logs_table_postgres(conn)  # IF NOT EXISTS: re-run at start when it is gone
    assert has_logs_table_postgres(conn)
    columns = conn.execute(
        "SELECT column_name, data_type, collation_name FROM information_schema.columns "
        "WHERE table_name = '_logs' ORDER BY column_name").fetchall()
    assert columns == [("created", "text", "C"), ("data", "json", None), ("id", "text", "C"),
                       ("level", "integer", None), ("message", "text", "C"), ("rowid", "bigint", None)]
    conn.execute('DROP TABLE "_logs"')
    assert not has_logs_table_postgres(conn)


def test_a_batch_lands_as_on_sqlite_with_nul_kept_as_replacement(logs: PgConnection) -> None:
    now = time.time()
    entries = [
        AppEntry(now, 0, "plain", {"b": 1, "a": "x"}),
        AppEntry(now, 8, "nul\x00here", {"path": "/a\x00b", "n": 1.5}),
        AppEntry(now, -4, "ünïcode ✓ 100% 'quoted' ?", {}),
    ]
    insert_entries_postgres(logs, entries, 0)
    rows = logs.execute('SELECT id, created, data, message, level FROM "_logs" ORDER BY rowid').fetchall()
    shown = [item(row) for row in rows]
    assert [(r["level"], r["message"]) for r in shown] == [
        (0, "plain"), (8, "nul\ufffdhere"), (-4, "ünïcode ✓ 100% 'quoted' ?")]
    assert shown[0]["data"] == {"a": "x", "b": 1}
    assert rows[0][2] == '{"a":"x","b":1}'  # json keeps the text as written: keys in Go's order
    assert shown[1]["data"] == {"n": 1.5, "path": "/a\ufffdb"}
    assert all(r["created"] == timestamp(now) and len(r["id"]) == 15 for r in shown)
    assert len({r["id"] for r in shown}) == 3


def test_the_hourly_stats_expression_groups_as_strftime_does(logs: PgConnection) -> None:
    base = 1_700_000_000.0  # 2023-11-14 22:13:20 UTC
    insert_entries_postgres(logs, [AppEntry(base, 0, "a", {}), AppEntry(base + 60, 0, "b", {}),
                                   AppEntry(base + 3600, 0, "c", {})], 0)
    rows = logs.execute(
        f'SELECT {HOUR_POSTGRES} AS date, count(id) AS total FROM "_logs" AS main GROUP BY date ORDER BY date'
    ).fetchall()
    assert rows == [("2023-11-14 22:00:00", 2), ("2023-11-14 23:00:00", 1)]


def test_retention_deletes_old_rows_and_rows_below_the_level(logs: PgConnection) -> None:
    now = time.time()
    insert_entries_postgres(logs, [AppEntry(now - 10 * DAY, 8, "old", {}), AppEntry(now, -4, "debug", {}),
                                   AppEntry(now, 4, "warn", {})], 0)
    delete_old(logs, 5)
    assert [r[0] for r in logs.execute('SELECT message FROM "_logs" ORDER BY rowid')] == ["debug", "warn"]
    delete_unwanted(logs, 5, 0)
    assert [r[0] for r in logs.execute('SELECT message FROM "_logs"')] == ["warn"]


def test_a_default_row_has_pocketbase_shapes(logs: PgConnection) -> None:
    logs.execute("INSERT INTO \"_logs\" (message) VALUES (?)", ("by hand",))
    log_id, created, data = logs.execute('SELECT id, created, data FROM "_logs"').fetchone()
    assert len(log_id) == 15 and orjson.loads(data) == {}
    assert len(created) == 24 and created.endswith("Z") and created[10] == " "


async def test_the_api_tests_here_run_on_postgresql(pbk_app: Any) -> None:
    assert pbk_app.aux_db.engine == "postgresql"
    assert await pbk_app.aux_db.read(has_logs_table_postgres)
