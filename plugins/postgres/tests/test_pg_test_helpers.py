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


def test_databases_of_a_killed_test_process_are_dropped() -> None:
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                              capture_output=True, text=True, check=True)
    orphan = f"{postgres.PREFIX}{finished.stdout.strip()}_left"
    mine = postgres.create_database()
    try:
        postgres._admin(f'CREATE DATABASE "{orphan}"')
        postgres._drop_orphans.__wrapped__()
        assert not exists(f"x/{orphan}")
        assert exists(mine)  # this process still runs: its databases stay
    finally:
        postgres.drop_database(mine)
        postgres._admin(f'DROP DATABASE IF EXISTS "{orphan}"')


def test_the_database_is_dropped_after_a_failure_too() -> None:
    seen: list[str] = []
    with pytest.raises(RuntimeError), postgres_database() as url:
        seen.append(url)
        raise RuntimeError("the test failed")
    assert not exists(seen[0])


def test_only_test_databases_are_ever_dropped() -> None:
    with pytest.raises(ValueError, match="not a test database"):
        postgres.drop_database("postgresql://root@127.0.0.1:5432/postgres")


EXAMPLE = """
import os
import subprocess
import sys

import pytest


@pytest.fixture
def pbk_plugins():
    return []


@pytest.fixture(scope="module")
def module_server_database(tmp_path_factory):
    # A module's fixture: what a pbk command it runs opens.
    return current_database(tmp_path_factory.mktemp("module"))


def current_database(data_dir):
    done = subprocess.run([sys.executable, "-m", "pbk", "--plugins=", "--dir", str(data_dir), "shell"],
                          input="print(query('SELECT current_database() AS name')[0]['name'])",
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


async def test_everything_the_test_starts_uses_its_database(
    pbk_app, pbk_test_database, pbk_module_database, module_server_database, tmp_path
):
    assert pbk_app.db.engine == "postgresql" and os.environ["PBK_DB"] == pbk_test_database
    name = pbk_test_database.rsplit("/", 1)[1]
    assert await pbk_app.db.read(lambda conn: conn.execute("SELECT current_database()").get) == name
    assert current_database(tmp_path / "cli") == name
    assert module_server_database == pbk_module_database.rsplit("/", 1)[1] != name
    with open(os.environ["SEEN"], "a") as seen:
        seen.write(pbk_test_database + " " + pbk_module_database + "\\n")
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
    for url in seen.read_text().split():
        assert not exists(url)


def test_an_unknown_engine_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PBK_TEST_DB", "mysql")
    with pytest.raises(RuntimeError, match="expected sqlite or postgresql"):
        postgres.engine_under_test()


def test_the_fixture_gives_a_database_that_works(postgres_url: str) -> None:
    conn = PgConnection.connect(postgres_url)
    try:
        assert conn.execute("SELECT current_database()").get == postgres_url.rsplit("/", 1)[1]
    finally:
        conn.close()
