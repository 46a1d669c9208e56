"""``POST /api/sql`` on pbk and on the real PocketBase 0.40.6: same status, same JSON but
``execTime``, query after query on the same data."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pbk_sdk.testing.postgres import engine_under_test
from pbk_sdk.testing.programs import pocketbase_and_pbk

pytestmark = pytest.mark.skipif(engine_under_test() == "postgresql", reason="compares SQLite's answers with PocketBase's; test_sql_postgres tests PostgreSQL's")

PLUGINS = ["records", "auth", "sql"]

#: Each a query (or a whole body) sent in turn to both; later ones see earlier ones' writes.
QUERIES: list[Any] = [
    "select 1",
    ("SELECT 1.5, 3.0, 1e20, 1234567.0, 123456.0, 0.1, 1e-5, 0.0001, 2.5e-7, -0.0, 0.1+0.2, 1e308*10,"
    " -1e308*10, 9223372036854775807, 10000000000000000000, null, 'héllo', '%s'"),
    "select x'00ff41', x'e282', x'eda080', cast('a' || x'ff' as blob), cast(x'41' as text)",
    "select 1 as a, 2 as a, typeof(1.0)",
    ("create table t(a int, b text not null, c real, d datetime, e boolean, f blob, g numeric primary key,"
    " h, i date, j timestamp); insert into t values(1,'x',1.5,'2024-01-02 03:04:05.000Z',1,x'41',5,'z',"
    "'2024-01-02',1700000000),(2,'y',null,'bad',0,null,6,7,'x',null)"),
    "select * from t order by g",
    "select a+1, b||'', count(*) over () from t order by g",
    "  insert into t(a,b,g) values (3,'q',7); update t set a=a+1",
    "update t set a = a + 1 where g > 5",
    "delete from t where a > 100",
    "alter table t add column k text default 'kk'",  # affectedRows: the delete's 0
    "select k from t order by g limit 1",
    "insert into t(a,b,g) values (1,'dup',5)",
    "insert into t(a,g) values (1,50)",
    "select 1; select a from t order by g",
    "select a from t order by g; select 1 where 0",
    "with x as (select 1) insert into t(a,b,g) values (9,'w',99)",
    "select count(*) from t where g = 99",
    "pragma table_info(t)",
    "pragma user_version = 5",
    "pragma user_version",
    "with recursive n(i) as (select 1 union all select i+1 from n where i < 1500) select i from n",
    "select id, email, verified, emailVisibility, created from users",
    "invalid",
    "select * from nosuch",
    " ",
    "delete from t where 0; drop table t",  # a known affectedRows (0)
    "select '" + "1" * 4986 + "' as x",  # 5000 characters
    "select '" + "1" * 4987 + "' as x",
    "select '" + "é" * 4991 + "'",  # 5000 characters, more bytes
    "select '" + "é" * 2495 + "'",  # 5000 bytes
    {"query": ""},
    {},
    {"query": 5},
    {"query": None},
]


def _answer(program: Any, body: Any) -> tuple[int, Any]:
    response = program.client.post("/api/sql", json=body)
    answer = response.json()
    if isinstance(answer, dict):
        answer.pop("execTime", None)
    return response.status_code, answer


@pytest.mark.slow
def test_queries_answer_as_pocketbase(tmp_path: Path) -> None:
    with pocketbase_and_pbk(tmp_path, PLUGINS) as (pocketbase, pbk):
        for query in QUERIES:
            body = query if isinstance(query, dict) else {"query": query}
            assert _answer(pbk, body) == _answer(pocketbase, body), query[:200] if isinstance(query, str) else query


#: A collection's table changed beneath the collection, then its records asked for.
BENEATH_A_COLLECTION: list[tuple[str, str, Any]] = [
    ("POST", "/api/sql", {"query": "delete from users where 0; alter table users add column extra text"}),
    ("GET", "/api/collections/users/records?fields=id", None),
    ("POST", "/api/sql", {"query": "insert into users (id, email, tokenKey, password) values ('u00000000000001', 'a@b.co', 'k', 'p')"}),
    ("POST", "/api/sql", {"query": "update _collections set listRule = '' where name = 'users'"}),
    ("GET", "/api/collections/users/records?fields=id,email", None),
    ("POST", "/api/sql", {"query": "drop table users"}),
    ("GET", "/api/collections/users/records", None),
    ("GET", "/api/health", None),
]
#: PocketBase answers 404 here, pbk's records plugin a 400 (the failed SELECT): no 500 either way.
VIEW_OF_A_DROPPED_TABLE = "/api/collections/users/records/u00000000000001"


@pytest.mark.slow
def test_changes_beneath_a_collection_answer_as_pocketbase(tmp_path: Path) -> None:
    with pocketbase_and_pbk(tmp_path, PLUGINS) as (pocketbase, pbk):
        for method, path, body in BENEATH_A_COLLECTION:
            answers = []
            for program in (pbk, pocketbase):
                response = program.client.request(method, path, json=body)
                answer = response.json()
                answer.pop("execTime", None)
                answers.append((response.status_code, answer))
            assert answers[0] == answers[1], (method, path, body)
        assert pbk.client.get(VIEW_OF_A_DROPPED_TABLE).status_code == 400
        assert pocketbase.client.get(VIEW_OF_A_DROPPED_TABLE).status_code == 404
