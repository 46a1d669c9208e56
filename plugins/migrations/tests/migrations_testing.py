"""Helpers of the migrations tests: the plugins, ``pbk`` commands in process, the schema of a
data dir as its database holds it (SQLite's file, or under ``PBK_TEST_DB=postgresql`` the data
dir's PostgreSQL test database)."""

from __future__ import annotations

import atexit
import contextlib
import json
import re
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from click.testing import Result
from pbk import cli as kernel_cli
from pbk_sdk.testing.commands import invoke
from pbk_sdk.testing.postgres import create_database, database_for, drop_database, engine_under_test

PLUGINS = "records,auth,migrations"


def pbk(data_dir: Path, *args: str, input: str | None = None, plugins_dir: Path | None = None) -> Result:
    """``pbk --dir DATA_DIR --plugins PLUGINS ARGS`` in process (its own thread and loop)."""
    argv = ["--dir", str(data_dir), "--plugins", PLUGINS, *db_flags(data_dir), *args]
    if plugins_dir is not None:
        argv += ["--pluginsDir", str(plugins_dir)]
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(invoke, kernel_cli, argv, input, None).result()


def migrate_up(root: Path, files: dict[str, str]) -> Result:
    """Write ``files`` (name: text) into ``root/pb_migrations``, then ``pbk migrate up`` on
    ``root/pb_data``."""
    (root / "pb_migrations").mkdir(exist_ok=True)
    for name, text in files.items():
        (root / "pb_migrations" / name).write_text(text)
    return pbk(root / "pb_data", "migrate", "up")


def postgres() -> bool:
    return engine_under_test() == "postgresql"


_databases: dict[Path, str] = {}


def database_url(data_dir: Path) -> str:
    """The data dir's PostgreSQL database, the same at every use: the one the test helpers give
    it at its first use (a module fixture's, or the test's), or a new one when another data dir
    of the same test has that one already (a replay must not share its original's tables)."""
    key = data_dir.resolve()
    if key not in _databases:
        url = database_for(data_dir)
        if url in _databases.values():
            url = create_database()
            atexit.register(_drop_quietly, url)
        _databases[key] = url
    return _databases[key]


def _drop_quietly(url: str) -> None:
    with contextlib.suppress(Exception):
        drop_database(url)


def db_flags(data_dir: Path) -> list[str]:
    """``--db`` of the data dir's database when the tests run on PostgreSQL."""
    return ["--db", database_url(data_dir)] if postgres() else []


def query(data_dir: Path, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    """``sql`` (``?`` placeholders) on the data dir's database; values as SQLite gives them."""
    if postgres():
        from pbk_postgres import PgConnection

        conn = PgConnection.connect(database_url(data_dir))
        try:
            return [tuple(row) for row in conn.execute(sql, params)]
        finally:
            conn.close()
    with sqlite3.connect(data_dir / "data.db") as conn:
        return conn.execute(sql, params).fetchall()


def has_table(data_dir: Path, name: str) -> bool:
    if postgres():
        return query(data_dir, "SELECT to_regclass(?) IS NOT NULL", f'"{name}"') == [(1,)]
    return bool(query(data_dir, "SELECT name FROM sqlite_master WHERE name = ?", name))


def column_names(data_dir: Path, table: str) -> list[str]:
    if postgres():
        return [row[0] for row in query(data_dir, "SELECT column_name FROM information_schema.columns "
                                                  "WHERE table_name = ? ORDER BY ordinal_position", table)]
    return [row[1] for row in query(data_dir, f'PRAGMA table_info("{table}")')]


def applied(data_dir: Path) -> list[str]:
    return [row[0] for row in query(data_dir, "SELECT file FROM _migrations ORDER BY applied, file")]


#: An auth collection's token settings: generated files leave their secrets out (the JSON
#: hides them, as PocketBase's), so every data dir has its own.
TOKENS = ("authToken", "passwordResetToken", "emailChangeToken", "verificationToken", "fileToken")


def _without_secrets(options: str) -> Any:
    """An auth collection's options with its token secrets masked."""
    data = json.loads(options)
    for token in TOKENS:
        if token in data:
            data[token]["secret"] = "*"
    return data


def schema(data_dir: Path) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """``_collections`` without the timestamps and token secrets, and
    every table, index, view and trigger ``sqlite_master`` holds. A view's fields are copies
    with random ids (``_clone_xxxx``), made anew whenever it is saved, as in PocketBase."""
    collections = [
        (*row[:4], re.sub(r'"_clone_\w{4}"', '"_clone_"', row[4]), *row[5:-1], _without_secrets(row[-1]))
        for row in query(data_dir, 'SELECT id, system, type, name, fields, indexes, "listRule", "viewRule", "createRule",'
                                   ' "updateRule", "deleteRule", options FROM _collections ORDER BY id')
    ]
    if postgres():
        return collections, _postgres_tables(data_dir)
    tables = query(data_dir, "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name")
    return collections, tables


def _postgres_tables(data_dir: Path) -> list[tuple[Any, ...]]:
    """What PostgreSQL holds of the schema: columns, indexes and views, by name."""
    columns = query(data_dir, "SELECT 'column', table_name, column_name, data_type, collation_name, is_nullable, "
                              "column_default FROM information_schema.columns WHERE table_schema = current_schema() "
                              "ORDER BY table_name, column_name")
    indexes = query(data_dir, "SELECT 'index', tablename, indexname, indexdef FROM pg_indexes "
                              "WHERE schemaname = current_schema() ORDER BY indexname")
    views = query(data_dir, "SELECT 'view', viewname, definition FROM pg_views "
                            "WHERE schemaname = current_schema() ORDER BY viewname")
    return [*columns, *indexes, *views]
