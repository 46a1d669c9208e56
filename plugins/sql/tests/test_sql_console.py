"""``POST /api/sql`` where pbk knowingly differs from PocketBase or guards its own connections,
and the Go number formatting on its own."""

from __future__ import annotations

from typing import Any

import pytest
from pbk_sdk.testing.postgres import engine_under_test
from pbk_sql.values import go_float

pytestmark = pytest.mark.skipif(engine_under_test() == "postgresql", reason="SQLite's console (pragmas, the authorizer, SQLite's errors); test_sql_postgres tests PostgreSQL's")

FAILED = "Failed to execute query. Raw error:\n"


async def _sql(client: Any, superuser: Any, query: str) -> Any:
    return await client.post("/api/sql", headers=superuser.headers, json={"query": query})


async def test_guests_and_users_are_refused(pbk_client: Any, pbk_superuser: Any) -> None:
    guest = await pbk_client.post("/api/sql", json={"query": "select 1"})
    assert guest.status_code == 401 and guest.json["data"] == {}
    created = await pbk_client.post("/api/collections/users/records", json={
        "email": "ada@example.com", "password": "1234567890", "passwordConfirm": "1234567890"})
    assert created.status_code == 200
    signed_in = await pbk_client.post("/api/collections/users/auth-with-password",
                                      json={"identity": "ada@example.com", "password": "1234567890"})
    user = await pbk_client.post("/api/sql", json={"query": "select 1"},
                                 headers={"Authorization": signed_in.json["token"]})
    assert user.status_code == 403


@pytest.mark.parametrize("query", [
    "begin", "commit", "savepoint x", "attach 'other.db' as other",
    "create table t(a); begin", "select 1; rollback",
])
async def test_statements_that_change_the_connection_are_refused(
    pbk_client: Any, pbk_superuser: Any, query: str
) -> None:
    answer = await _sql(pbk_client, pbk_superuser, query)
    assert answer.status_code == 400
    assert answer.json["message"] == FAILED + "authorization denied: not authorized (23)."
    tables = await _sql(pbk_client, pbk_superuser, "select name from sqlite_master where name = 't'")
    assert tables.json["rows"] == []  # the refused query's earlier statements rolled back


@pytest.mark.parametrize("query", [
    "insert into t values(9); pragma query_only=1", "pragma ignore_check_constraints=1",
    "pragma recursive_triggers=0", "pragma synchronous=OFF", "pragma wal_autocheckpoint=0",
    "PRAGMA main.Query_Only = true", "pragma case_sensitive_like=1",
    "create temp trigger emptied after insert on t begin delete from t; end",
    "create temp table kept(a)", "create temp view kept as select 1", "create table temp.kept(a)",
    "create trigger temp.emptied after insert on t begin delete from t; end",
    "select * from t; create temp view kept as select 1",
])
async def test_statements_that_change_settings_or_temp_objects_are_refused(
    pbk_client: Any, pbk_superuser: Any, query: str
) -> None:
    await _sql(pbk_client, pbk_superuser, "create table t(a integer check (a > 0))")
    answer = await _sql(pbk_client, pbk_superuser, query)
    assert answer.status_code == 400
    assert answer.json["message"] == FAILED + "authorization denied: not authorized (23)."
    written = await _sql(pbk_client, pbk_superuser, "insert into t values(1)")
    assert written.status_code == 200 and written.json["affectedRows"] == 1
    unchecked = await _sql(pbk_client, pbk_superuser, "insert into t values(-1)")
    assert unchecked.status_code == 400  # the check constraint still holds
    rows = await _sql(pbk_client, pbk_superuser, "select a, 'a' like 'A' from t")
    assert rows.status_code == 200 and rows.json["rows"] == [["1", "1"]]
    temp = await _sql(pbk_client, pbk_superuser, "select count(*) from sqlite_temp_master")
    assert temp.json["rows"] == [["0"]]


@pytest.mark.parametrize(("query", "rows"), [
    ("pragma query_only", [["0"]]), ("pragma table_info(t)", [["0", "a", "", "0", None, "0"]]),
    ("pragma index_list('t')", []), ("pragma user_version = 7; pragma user_version", [["7"]]),
])
async def test_pragmas_that_read_or_keep_their_value_in_the_file_run(
    pbk_client: Any, pbk_superuser: Any, query: str, rows: list[list[str | None]]
) -> None:
    await _sql(pbk_client, pbk_superuser, "create table t(a)")
    answer = await _sql(pbk_client, pbk_superuser, query)
    assert answer.status_code == 200 and answer.json["rows"] == rows


async def test_a_read_that_writes_runs_on_the_writer(pbk_client: Any, pbk_superuser: Any) -> None:
    await _sql(pbk_client, pbk_superuser, "create table t(a)")
    answer = await _sql(pbk_client, pbk_superuser, "select 1; with x as (select 2) insert into t select * from x")
    assert answer.status_code == 200 and answer.json["columns"] == [] and answer.json["rows"] == []
    rows = await _sql(pbk_client, pbk_superuser, "select a from t")
    assert rows.json["rows"] == [["2"]]


async def test_text_that_is_not_utf8_is_a_clear_error(pbk_client: Any, pbk_superuser: Any) -> None:
    answer = await _sql(pbk_client, pbk_superuser, "select 'a' || x'ff'")
    assert answer.status_code == 400
    assert answer.json["message"] == FAILED + "a text value is not valid UTF-8 (cast it to a blob to read it)."


@pytest.mark.parametrize(("value", "text"), [
    (1.5, "1.5"), (3.0, "3"), (123456.0, "123456"), (1234567.0, "1.234567e+06"), (1e20, "1e+20"),
    (0.0001, "0.0001"), (1e-5, "1e-05"), (2.5e-7, "2.5e-07"), (-0.0, "-0"), (0.1 + 0.2, "0.30000000000000004"),
    (float("inf"), "+Inf"), (float("-inf"), "-Inf"), (1.7976931348623157e308, "1.7976931348623157e+308"),
])
def test_floats_print_as_go_prints_them(value: float, text: str) -> None:
    assert go_float(value) == text
