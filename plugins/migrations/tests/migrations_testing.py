"""Helpers of the migrations tests: the plugins, ``pbk`` commands in process, the schema of a
data dir as SQLite holds it."""

from __future__ import annotations

import json
import re
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from click.testing import Result
from pbk import cli as kernel_cli
from pbk_sdk.testing.commands import invoke

PLUGINS = "records,auth,migrations"


def pbk(data_dir: Path, *args: str, input: str | None = None, plugins_dir: Path | None = None) -> Result:
    """``pbk --dir DATA_DIR --plugins PLUGINS ARGS`` in process (its own thread and loop)."""
    argv = ["--dir", str(data_dir), "--plugins", PLUGINS, *args]
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


def query(data_dir: Path, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    with sqlite3.connect(data_dir / "data.db") as conn:
        return conn.execute(sql, params).fetchall()


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
        for row in query(data_dir, "SELECT id, system, type, name, fields, indexes, listRule, viewRule, createRule,"
                                   " updateRule, deleteRule, options FROM _collections ORDER BY id")
    ]
    tables = query(data_dir, "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name")
    return collections, tables
