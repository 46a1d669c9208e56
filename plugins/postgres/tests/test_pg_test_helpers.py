"""The SDK's PostgreSQL test helpers: a fresh database per use, dropped afterwards (also after
a failure), and PBK_TEST_DB=postgresql giving pbk_config one."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from pbk_postgres import PgConnection
from pbk_sdk.testing import postgres
from pbk_sdk.testing.postgres import postgres_database


def exists(url: str) -> bool:
    name = url.rsplit("/", 1)[1]
    admin = PgConnection.connect(postgres.SERVER_URL)
    try:
        return bool(admin.execute("SELECT 1 FROM pg_database WHERE datname = ?", (name,)).get)
    finally:
        admin.close()


def test_each_database_is_new_and_dropped_on_the_way_out() -> None:
    with postgres_database() as first, postgres_database() as second:
        assert first != second
        assert exists(first) and exists(second)
        conn = PgConnection.connect(first)  # left open: the drop closes it
        conn.execute("CREATE TABLE t (a TEXT)")
    assert not exists(first) and not exists(second)


def test_the_database_is_dropped_after_a_failure_too() -> None:
    seen: list[str] = []
    with pytest.raises(RuntimeError), postgres_database() as url:
        seen.append(url)
        raise RuntimeError("the test failed")
    assert not exists(seen[0])


def test_only_test_databases_are_ever_dropped() -> None:
    with pytest.raises(ValueError, match="not a test database"):
        postgres.drop_database("postgresql://root@127.0.0.1:5432/postgres")


def test_outside_a_test_pbk_test_db_gives_one_database_per_data_dir(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PBK_TEST_DB", "postgresql")
    assert postgres.test_engine() == "postgresql"
    url = postgres.database_for(tmp_path / "pb_data")
    other = postgres.database_for(tmp_path / "other")
    try:
        assert exists(url)
        assert postgres.database_for(tmp_path / "pb_data") == url  # a restarted server finds its data
        assert other != url
    finally:
        postgres._drop_all()
    assert not exists(url) and not exists(other)


EXAMPLE = """
import os
import subprocess
import sys

import pytest


@pytest.fixture
def pbk_plugins():
    return []


async def test_everything_the_test_starts_uses_its_database(pbk_app, pbk_test_database, tmp_path):
    assert pbk_app.db.engine == "postgresql" and os.environ["PBK_DB"] == pbk_test_database
    done = subprocess.run([sys.executable, "-m", "pbk", "--plugins=", "--dir", str(tmp_path / "cli"), "shell"],
                          input="print(query('SELECT current_database()'))", capture_output=True, text=True,
                          check=False)
    assert pbk_test_database.rsplit("/", 1)[1] in done.stdout, done.stderr
    with open(os.environ["SEEN"], "a") as seen:
        seen.write(pbk_test_database + "\\n")
"""


def test_pbk_test_db_runs_each_test_on_a_database_of_its_own_dropped_after(tmp_path: Path) -> None:
    (tmp_path / "test_example.py").write_text(EXAMPLE)
    seen = tmp_path / "seen.txt"
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-n0", "-p", "no:cacheprovider", "-o", "asyncio_mode=auto",
         "-o", "asyncio_default_fixture_loop_scope=function", str(tmp_path / "test_example.py")],
        capture_output=True, text=True, check=False, cwd=tmp_path,
        env={**os.environ, "PBK_TEST_DB": "postgresql", "SEEN": str(seen)},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    [url] = seen.read_text().split()
    assert not exists(url)


def test_an_unknown_engine_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PBK_TEST_DB", "mysql")
    with pytest.raises(RuntimeError, match="expected sqlite or postgresql"):
        postgres.test_engine()


def test_the_fixture_gives_a_database_that_works(postgres_url: str) -> None:
    conn = PgConnection.connect(postgres_url)
    try:
        assert conn.execute("SELECT current_database()").get == postgres_url.rsplit("/", 1)[1]
    finally:
        conn.close()
