"""A fresh PostgreSQL database per test, dropped afterwards (also when the test fails).

``postgres_database()`` (a context manager) and the ``postgres_url`` fixture create a uniquely
named database on the server of ``PBK_TEST_POSTGRES`` (default: ``127.0.0.1:5432`` as user
``root``, trust auth) and give its URL; ``pbk serve --db URL`` runs pbk on it.

``PBK_TEST_DB=postgresql`` runs the existing suite on PostgreSQL: each test gets a database of
its own as ``PBK_DB`` (``pbk_test_database``), so the fixtures (``pbk_app``, ``live_server``,
``pbk_cli``) and the ``pbk`` commands a test runs itself all use it; module and session fixtures
get their scope's database the same way.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import os
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from .extra import require

#: The server tests create their databases on: any database of it (``postgres`` is there).
SERVER_URL = os.environ.get("PBK_TEST_POSTGRES", "postgresql://root@127.0.0.1:5432/postgres")
#: Every test database's name starts with this, so leftovers of a killed run are easy to find.
PREFIX = "pbk_test_"


def engine_under_test() -> str:
    """``PBK_TEST_DB``: ``sqlite`` (the default) or ``postgresql``, the engine tests run on."""
    engine = os.environ.get("PBK_TEST_DB", "sqlite").strip().lower() or "sqlite"
    if engine == "postgres":
        engine = "postgresql"
    if engine not in ("sqlite", "postgresql"):
        raise RuntimeError(f"PBK_TEST_DB={engine!r}: expected sqlite or postgresql")
    return engine


def _admin(sql: str) -> None:
    psycopg = require("psycopg", "the PostgreSQL test helpers (pip install pbk-postgres)")
    with psycopg.connect(SERVER_URL, autocommit=True, connect_timeout=10) as conn:
        conn.execute(sql)


@functools.cache
def _drop_orphans() -> None:
    """Drop the databases a killed test process left (its pid is in the name and no longer
    runs), once per process: a run stopped by SIGKILL or a timeout cannot clean up itself."""
    psycopg = require("psycopg", "the PostgreSQL test helpers (pip install pbk-postgres)")
    with psycopg.connect(SERVER_URL, autocommit=True, connect_timeout=10) as conn:
        names = [row[0] for row in conn.execute(
            "SELECT datname FROM pg_database WHERE starts_with(datname, %s)", (PREFIX,))]
        for name in names:
            pid = name[len(PREFIX):].partition("_")[0]
            if pid.isdigit() and not _running(int(pid)):
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def new_database_url() -> str:
    """The URL of a database on the test server with a name no other test uses (not created:
    pbk creates a missing database when it opens it)."""
    _drop_orphans()
    name = f"{PREFIX}{os.getpid()}_{uuid.uuid4().hex[:12]}"
    return urlunsplit(urlsplit(SERVER_URL)._replace(path=f"/{name}"))


def create_database() -> str:
    """A new empty database on the test server; its URL."""
    url = new_database_url()
    _admin(f'CREATE DATABASE "{urlsplit(url).path.lstrip("/")}"')
    return url


def drop_database(url: str) -> None:
    """Drop the database of ``url``, closing any connection still open to it."""
    name = urlsplit(url).path.lstrip("/")
    if not name.startswith(PREFIX):
        raise ValueError(f"refusing to drop {name!r}: not a test database")
    _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def postgres_database() -> Iterator[str]:
    """``with postgres_database() as url:`` a fresh database, dropped on the way out."""
    url = create_database()
    try:
        yield url
    finally:
        drop_database(url)


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """The URL of a fresh PostgreSQL database, dropped after the test (pass it as ``--db``,
    or as ``pbk_config["db"]``)."""
    with postgres_database() as url:
        yield url


def _scoped_database() -> Iterator[str | None]:
    """Under ``PBK_TEST_DB=postgresql``: a database for one scope (session, module, test) as
    ``PBK_DB`` while it lasts, created by the first ``pbk`` that opens it, dropped after."""
    if engine_under_test() == "sqlite":
        yield None
        return
    url = new_database_url()
    before = os.environ.get("PBK_DB")
    os.environ["PBK_DB"] = url
    _scopes.append(url)
    try:
        yield url
    finally:
        _scopes.remove(url)
        if before is None:
            os.environ.pop("PBK_DB", None)
        else:
            os.environ["PBK_DB"] = before
        drop_database(url)


#: The URLs of the scopes' databases, innermost last.
_scopes: list[str] = []


@pytest.fixture(autouse=True)
def pbk_test_database() -> Iterator[str | None]:
    """Under ``PBK_TEST_DB=postgresql``, this test's database: its URL is ``PBK_DB`` while the
    test runs, so every ``pbk`` it starts (in process or not, ``pbk superuser upsert`` included)
    uses it; the first to open it creates it; it is dropped after the test. None on SQLite.
    Module and session fixtures get one of their module's (session's) the same way."""
    yield from _scoped_database()


@pytest.fixture(autouse=True, scope="module")
def pbk_module_database() -> Iterator[str | None]:
    """``pbk_test_database`` for a module's fixtures (a server shared by its tests)."""
    yield from _scoped_database()


@pytest.fixture(autouse=True, scope="session")
def pbk_session_database() -> Iterator[str | None]:
    """``pbk_test_database`` for session fixtures."""
    yield from _scoped_database()


def database_for(data_dir: Path) -> str:
    """A database of ``data_dir``'s own (created at first use, the same for every later server
    on that data dir, dropped when the test process exits), for tests that run several data dirs
    in one scope (a migration replayed on a fresh data dir, say) and pass it as ``--db``; a
    server started without ``--db`` gets its scope's ``PBK_DB`` instead."""
    key = Path(data_dir).resolve()
    with _by_data_dir_lock:
        if key not in _by_data_dir:
            if not _by_data_dir:
                atexit.register(_drop_data_dir_databases)
            _by_data_dir[key] = create_database()
        return _by_data_dir[key]


def made_for(data_dir: Path) -> str | None:
    """The database ``database_for(data_dir)`` made, if it was called."""
    with _by_data_dir_lock:
        return _by_data_dir.get(Path(data_dir).resolve())


_by_data_dir: dict[Path, str] = {}
_by_data_dir_lock = threading.Lock()


def _drop_data_dir_databases() -> None:
    for url in _by_data_dir.values():
        with contextlib.suppress(Exception):
            drop_database(url)
    _by_data_dir.clear()


def current_database() -> str:
    """The database of the innermost scope running now, under ``PBK_TEST_DB=postgresql``."""
    if not _scopes:
        raise RuntimeError("no PostgreSQL test database outside pytest's fixtures (PBK_TEST_DB=postgresql)")
    return _scopes[-1]
