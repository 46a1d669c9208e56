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
from pbk_records.filter import POSTGRES

try:
    from . import test_filter_compiler as compiler_tests
    from . import test_filter_postgres_support as pg
except ImportError:  # tests/ is not a package
    import test_filter_compiler as compiler_tests
    import test_filter_postgres_support as pg

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
