"""The console's PostgreSQL runner on the real PostgreSQL at 127.0.0.1:5432 (one fresh database
for this module): statements split as PostgreSQL reads them, the guards, read-only reads, writes
in one transaction, a connection of its own per query, errors as pgx prints them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from pbk_postgres import PgConnection
from pbk_sdk.testing import postgres_database
from pbk_sql import postgres
from pbk_sql.query import MAX_ROWS

FAILED = "Failed to execute query. Raw error:\n"


@pytest.fixture
def pbk_config(pbk_config: dict[str, Any], postgres_url: str) -> dict[str, Any]:
    return {**pbk_config, "db": postgres_url}


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    with postgres_database() as database:
        conn = PgConnection.connect(database)
        conn.execute('CREATE TABLE "posts" ("id" TEXT COLLATE "C" PRIMARY KEY, "views" DOUBLE PRECISION, '
                     '"draft" BOOLEAN, "meta" JSON)')
        conn.execute("INSERT INTO \"posts\" SELECT 'p' || n, n, n % 2 = 0, '{\"n\": 1}' FROM generate_series(1, 1500) AS n")
        conn.close()
        yield database


def run(url: str, query: str, write: bool = False, timeout: float = 10.0) -> postgres.Result:
    """As ``POST /api/sql`` runs it."""
    parts = postgres.statements(query)
    postgres.check(parts)
    return postgres.run_query(PgConnection.connect, url, parts, timeout, timeout, write)


def sessions(url: str) -> int:
    """Connections open to the test database, but for the one asking."""
    return run(url, "select count(*) from pg_stat_activity where datname = current_database() "
                    "and pid <> pg_backend_pid()").rows[0][0]


@pytest.mark.parametrize(("query", "expected"), [
    ("select 1", ["select 1"]),
    ("select 1; select 2;", ["select 1", "select 2"]),
    ("select ';' as a, \"x;y\" from t; select $$;$$, $f$ ; $f$", ["select ';' as a, \"x;y\" from t",
                                                               "select $$;$$, $f$ ; $f$"]),
    ("select E'\\';' ; select 'it''s;'", ["select E'\\';'", "select 'it''s;'"]),
    ("-- a; comment\nselect 1 /* b; /* nested; */ c; */; ;", ["-- a; comment\nselect 1 /* b; /* nested; */ c; */"]),
    ("-- only a comment; \n /* and; this */", []),
])
def test_statements_split_where_postgresql_would(query: str, expected: list[str]) -> None:
    assert postgres.statements(query) == expected


@pytest.mark.parametrize("query", ["commit", "select 1; COMMIT", "begin", "  start transaction", "rollback",
                                   "end", "abort", "savepoint a", "release a", "prepare transaction 'x'",
                                   "copy posts to stdout", "/* hi */ commit"])
def test_transaction_control_is_refused_before_anything_runs(query: str) -> None:
    with pytest.raises(postgres.Refused, match="is not allowed in the SQL console"):
        postgres.check(postgres.statements(query))


def test_a_read_answers_the_last_statements_columns_and_values_as_text(url: str) -> None:
    result = run(url, "select 1; select id, views, draft, meta, views / 4 as q from posts order by views limit 2")
    assert result.columns == [
        {"name": "id", "type": "TEXT", "nullable": True},
        {"name": "views", "type": "FLOAT8", "nullable": True},
        {"name": "draft", "type": "BOOL", "nullable": True},
        {"name": "meta", "type": "JSON", "nullable": True},
        {"name": "q", "type": "FLOAT8", "nullable": True},
    ]
    assert result.rows == [["p1", "1", "0", '{"n": 1}', "0.25"], ["p2", "2", "1", '{"n": 1}', "0.5"]]
    assert result.affected_rows == 0


def test_a_read_stops_after_the_first_rows_and_leaves_no_session_behind(url: str) -> None:
    assert len(run(url, "select set_config('search_path', 'nowhere', false), id from posts").rows) == MAX_ROWS
    assert run(url, "show search_path").rows == [['"$user", public']]
    assert sessions(url) == "0"


def test_a_write_in_a_read_runs_again_as_a_write(url: str) -> None:
    result = run(url, "with n as (insert into posts (id) values ('w1') returning id) select * from n")
    assert result.rows == [["w1"]] and result.affected_rows == 0
    assert run(url, "select count(*) from posts where id = 'w1'").rows == [["1"]]


def test_a_write_reports_the_last_changes(url: str) -> None:
    result = run(url, "insert into posts (id, views) values ('a1', 1), ('a2', 2); "
                      "update posts set views = 7.5 where id in ('a1', 'a2'); create table t1 (x int)", write=True)
    assert (result.affected_rows, result.rows, result.columns) == (2, [], [])
    assert run(url, "select count(*) from posts where views = 7.5").rows == [["2"]]


def test_an_error_is_postgresqls_as_pgx_prints_it_and_rolls_the_write_back(url: str) -> None:
    with pytest.raises(postgres.Failed) as failed:
        run(url, "select * from nope")
    assert str(failed.value) == 'ERROR: relation "nope" does not exist (SQLSTATE 42P01)'
    with pytest.raises(postgres.Failed, match=r"duplicate key value .* \(SQLSTATE 23505\)"):
        run(url, "insert into posts (id) values ('b1'); insert into posts (id) values ('p1')", write=True)
    assert run(url, "select count(*) from posts where id = 'b1'").rows == [["0"]]


def test_the_time_limit_cancels_the_statement(url: str) -> None:
    with pytest.raises(postgres.Failed, match=r"statement timeout \(SQLSTATE 57014\)"):
        run(url, "select pg_sleep(5)", timeout=0.2)
    with pytest.raises(postgres.Failed, match=r"statement timeout \(SQLSTATE 57014\)"):
        run(url, "update posts set views = views + 1 where pg_sleep(5) is not null", write=True, timeout=0.2)
    assert run(url, "select views from posts where id = 'p1'").rows == [["1"]]


def test_question_marks_and_percent_signs_reach_postgresql_as_written(url: str) -> None:
    result = run(url, """select '{"a":1}'::jsonb ? 'a' as has, 'x%' as pct""")
    assert result.rows == [["1", "x%"]]


async def test_the_console_api_on_postgresql(pbk_app: Any, pbk_client: Any, pbk_superuser: Any) -> None:
    """``POST /api/sql`` with the data in PostgreSQL: a fresh database for this test."""
    assert pbk_app.db.engine == "postgresql"

    async def sql(query: str) -> Any:
        return await pbk_client.post("/api/sql", headers=pbk_superuser.headers, json={"query": query})

    made = await sql("create table notes (id text primary key, n int); insert into notes values ('a', 1), ('b', 2)")
    assert made.status_code == 200 and made.json["affectedRows"] == 2 and made.json["rows"] == []
    listed = await sql("select id, n from notes order by id")
    assert listed.json["columns"] == [{"name": "id", "type": "TEXT", "nullable": True},
                                      {"name": "n", "type": "INT4", "nullable": True}]
    assert listed.json["rows"] == [["a", "1"], ["b", "2"]] and listed.json["affectedRows"] == 0
    collections = await sql("select count(*) > 0 from _collections")
    assert collections.json["rows"] == [["1"]]
    refused = await sql("select 1; commit")
    assert refused.status_code == 400 and refused.json["message"].startswith(FAILED + "COMMIT is not allowed")
    missing = await sql("select * from nope")
    assert missing.json == {"status": 400, "data": {},
                            "message": FAILED + 'ERROR: relation "nope" does not exist (SQLSTATE 42P01).'}
    empty = await sql("-- nothing")
    assert empty.json["message"] == FAILED + "empty query."
    assert (await pbk_client.post("/api/sql", json={"query": "select 1"})).status_code == 401
