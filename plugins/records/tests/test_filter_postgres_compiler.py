"""test_filter_compiler's and test_filter_rule_cache's tests again, on PostgreSQL with the
PostgreSQL dialect.

Their expected ids are PocketBase's (checked against the 0.40.6 binary), so passing them here
means the PostgreSQL dialect answers as PocketBase does. Tests that write SQLite SQL of their
own, or look at the SQL text, stay SQLite-only (listed below).
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import Any

import pytest
from pbk_records.filter import POSTGRES, RequestInfo, compile_rule
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

for _module in (compiler_tests, cache_tests):
    for _name in dir(_module):
        if _name.startswith("test_") and _name not in SQLITE_ONLY:
            globals()[_name] = getattr(_module, _name)


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
    """The tests' own compile_* calls and rule caches compile for PostgreSQL too."""
    for module, name in [(m, n) for m in (compiler_tests, cache_tests) for n in ("compile_filter", "compile_rule", "compile_sort")]:
        if hasattr(module, name):
            func: Any = getattr(module, name)
            monkeypatch.setattr(module, name, functools.partial(func, dialect=POSTGRES))
    monkeypatch.setattr(cache_tests, "RuleCache", _PostgresRuleCache)


class _PostgresRuleCache(RuleCache):
    def compile(self, *args: Any, **kw: Any) -> Any:
        kw.setdefault("dialect", POSTGRES)
        return super().compile(*args, **kw)


def test_one_rule_cache_serves_both_engines(env: pg.PgEnv) -> None:
    cache = RuleCache()
    schema = object()
    posts = env.collections["posts"]
    request = RequestInfo(auth=env.auth(pg.support.A1))
    rule = "author = @request.auth.id"
    on_postgres = cache.compile(rule, posts, env.lookup, request, schema=schema, dialect=POSTGRES)
    on_sqlite = cache.compile(rule, posts, env.lookup, request, schema=schema)
    assert on_sqlite.sql == compile_rule(rule, posts, env.lookup, request).sql
    assert on_postgres.sql == compile_rule(rule, posts, env.lookup, request, dialect=POSTGRES).sql
    assert on_postgres.sql != on_sqlite.sql and len(cache._compiled) == 2


def test_a_create_check_against_a_cte(env: pg.PgEnv) -> None:
    """Rules also work against a row that is not stored yet (typed columns in the CTE)."""
    rule = "@request.auth.id != '' && author = @request.auth.id && @request.body.title:isset = true"
    request = RequestInfo(auth=env.auth(pg.support.A1), body={"title": "new"}, method="POST")
    sql = env.compile("posts", rule, request, mode="rule", table_alias="new")
    for author, count in ((pg.support.A1, 1), (pg.support.A2, 0)):
        rows = env.conn.execute(
            """WITH "new" AS (SELECT CAST('tmpid' AS text) AS id, CAST(? AS text) AS author) """
            f'SELECT count(*) FROM "new" WHERE {sql.sql}',
            [author, *sql.params],
        )
        assert list(rows) == [(count,)], author
