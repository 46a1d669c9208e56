"""test_filter_compiler's tests again, on PostgreSQL with the PostgreSQL dialect.

Their expected ids are PocketBase's (checked against the 0.40.6 binary), so passing them here
means the PostgreSQL dialect answers as PocketBase does. Tests that write SQLite SQL of their
own, or look at the SQL text, stay SQLite-only (listed below).
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import Any

import pytest
from pbk_records.filter import POSTGRES, FilterError, RequestInfo, compile_filter, compile_rule
from pbk_records.filter.cached import RuleCache

try:
    from . import test_filter_compiler as compiler_tests
    from . import test_filter_postgres_support as pg
    from . import test_filter_rule_cache as cache_tests
except ImportError:  # tests/ is not a package
    import test_filter_compiler as compiler_tests
    import test_filter_postgres_support as pg
    import test_filter_rule_cache as cache_tests

#: tests that run SQLite SQL of their own (a CTE with an untyped parameter), count ``?`` in the
#: SQL text (PostgreSQL's regular expressions hold ``?`` inside string literals) or expect a
#: LIKE pattern bound once (PostgreSQL binds it twice: once to check its end, see postgres.py)
SQLITE_ONLY = {
    "test_isset_changed_in_a_create_check_against_a_cte",
    "test_every_literal_is_a_parameter",
    "test_values_are_kept_apart_between_compiles",
}

for _name in dir(compiler_tests):
    if _name.startswith("test_") and _name not in SQLITE_ONLY:
        globals()[_name] = getattr(compiler_tests, _name)


@pytest.fixture(scope="module")
def env() -> Iterator[pg.PgEnv]:
    with pg.postgres_database() as conn:
        yield pg.PgEnv(conn)


@pytest.fixture()
def fresh_env() -> Iterator[pg.PgEnv]:
    with pg.postgres_database() as conn:
        yield pg.PgEnv(conn)


@pytest.fixture(autouse=True)
def _postgres_dialect(monkeypatch: pytest.MonkeyPatch) -> None:
    """The tests' own compile_* calls compile for PostgreSQL too."""
    for name in ("compile_filter", "compile_rule", "compile_sort"):
        func: Any = getattr(compiler_tests, name)
        monkeypatch.setattr(compiler_tests, name, functools.partial(func, dialect=POSTGRES))


def _ids(env: pg.PgEnv, table: str, sql: Any) -> list[str]:
    query = f'SELECT main.id FROM "{table}" AS main WHERE {sql.sql} ORDER BY main.rowid'
    return [row[0] for row in env.conn.execute(query, sql.params)]


@pytest.mark.parametrize("table", ["posts", "comments"])
def test_cached_rules_equal_fresh_compilations(env: pg.PgEnv, table: str) -> None:
    """RuleCache with the PostgreSQL dialect: the same SQL and rows as compiling afresh."""
    cache = RuleCache()
    schema = object()
    collection = env.collections[table]
    compared = 0
    for _ in range(2):  # the second pass is all hits
        for rule in cache_tests.RULES:
            for request in cache_tests.requesters(env):
                try:
                    fresh = compile_filter(rule, collection, env.lookup, request, mode="rule", dialect=POSTGRES)
                except FilterError:
                    with pytest.raises(FilterError):
                        cache.compile(rule, collection, env.lookup, request, schema=schema, dialect=POSTGRES)
                    continue
                cached = cache.compile(rule, collection, env.lookup, request, schema=schema, dialect=POSTGRES)
                if "@now" not in rule:
                    assert (cached.sql, cached.params) == (fresh.sql, fresh.params), (rule, request.auth)
                assert _ids(env, table, cached) == _ids(env, table, fresh), (rule, request.auth)
                compared += 1
    assert compared > len(cache_tests.RULES) * 8
    # one cache serves both engines without mixing their SQL
    request = RequestInfo(auth=env.auth(pg.support.A1))
    sqlite_sql = cache.compile("author = @request.auth.id", collection, env.lookup, request, schema=schema)
    assert sqlite_sql.sql == compile_rule("author = @request.auth.id", collection, env.lookup, request).sql


def test_a_create_check_against_a_cte(env: pg.PgEnv) -> None:
    """Rules also work against a row that is not stored yet (typed columns in the CTE)."""
    request = RequestInfo(auth=env.auth(pg.support.A1), body={"title": "new", "author": pg.support.A1}, method="POST")
    sql = compile_rule(
        "@request.auth.id != '' && author = @request.auth.id && @request.body.title:isset = true",
        env.collections["posts"],
        env.lookup,
        request,
        table_alias="new",
        dialect=POSTGRES,
    )
    query = f"""WITH "new" AS (SELECT CAST('tmpid' AS text) AS id, CAST('new' AS text) AS title,
                CAST(? AS text) AS author) SELECT count(*) FROM "new" WHERE {sql.sql}"""
    assert list(env.conn.execute(query, [pg.support.A1, *sql.params])) == [(1,)]
    assert list(env.conn.execute(query, [pg.support.A2, *sql.params])) == [(0,)]
