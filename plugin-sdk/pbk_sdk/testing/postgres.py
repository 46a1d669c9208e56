"""A fresh PostgreSQL database per test, dropped afterwards (also when the test fails).

``postgres_database()`` (a context manager) and the ``postgres_url`` fixture create a uniquely
named database on the server of ``PBK_TEST_POSTGRES`` (default: ``127.0.0.1:5432`` as user
``root``, trust auth) and give its URL; ``pbk serve --db URL`` runs pbk on it.

``PBK_TEST_DB=postgresql`` runs the existing suite on PostgreSQL: ``pbk_config`` (so
``pbk_app``, ``pbk_client``, ``live_server``, ``pbk_cli``) then carries a fresh database, and
``start_live_server`` gives a server without ``--db`` the database of its data dir (one per data
dir, so a restarted server finds its data), dropped when the test process ends.
"""

from __future__ import annotations

import atexit
import contextlib
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


def test_engine() -> str:
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


def create_database() -> str:
    """A new empty database on the test server; its URL."""
    name = f"{PREFIX}{os.getpid()}_{uuid.uuid4().hex[:12]}"
    _admin(f'CREATE DATABASE "{name}"')
    parts = urlsplit(SERVER_URL)
    return urlunsplit(parts._replace(path=f"/{name}"))


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


_by_data_dir: dict[Path, str] = {}
_by_data_dir_lock = threading.Lock()


def database_for(data_dir: Path) -> str:
    """The test database of ``data_dir`` under ``PBK_TEST_DB=postgresql``: created at first
    use, the same for every later server on that data dir, dropped at exit."""
    key = Path(data_dir).resolve()
    with _by_data_dir_lock:
        if key not in _by_data_dir:
            if not _by_data_dir:
                atexit.register(_drop_all)
            _by_data_dir[key] = create_database()
        return _by_data_dir[key]


def release_database(data_dir: Path) -> None:
    """Drop the test database of ``data_dir`` now (its servers have stopped)."""
    with _by_data_dir_lock:
        url = _by_data_dir.pop(Path(data_dir).resolve(), None)
    if url is not None:
        drop_database(url)


def _drop_all() -> None:
    for url in _by_data_dir.values():
        with contextlib.suppress(Exception):
            drop_database(url)
    _by_data_dir.clear()
