"""``pbk db copy SOURCE DEST``: a data set copied between a SQLite ``pb_data`` and PostgreSQL.

The destination's tables are made by the destination's own app (every plugin's migrations on
that engine, then the source's collections imported through the records plugin's
``Collections`` service, so each table gets its engine's DDL); then every row of every table
is copied in rowid order, one batch per transaction, with the last key copied recorded in the
destination's ``_pbk_copy`` table in that same transaction. A copy stopped anywhere resumes
from there; the marker table is dropped once the counts agree. The source is only read.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import apsw

from .connection import PgConnection
from .database import create_if_missing, redacted

MARKER = "_pbk_copy"
SCHEMA_DONE = "#schema"
SOURCE_KEY = "#source"
FILES = {"main": "data.db", "aux": "auxiliary.db"}
AUX_TABLES = {"_logs"}  # auxiliary.db's tables on SQLite
SERVING_FILE = ".pbk_serving"  # held shared by every `pbk serve` of a data dir (the backups plugin's)
FILES_NOTE = ("Uploaded files were not copied: they stay in {where} (pb_data/storage or S3); "
              "point the new server at the same storage.")


class CopyError(Exception):
    """A one-line reason the copy cannot go on (the command prints it and exits 1)."""


def _is_url(location: str) -> bool:
    return location.startswith(("postgresql://", "postgres://"))


def _check_url(location: str) -> None:
    parts = urlsplit(location)
    if not parts.hostname and "host=" not in parts.query:
        raise CopyError(f"bad PostgreSQL URL {redacted(location)}: no host (postgresql://USER@HOST:PORT/NAME)")
    if not parts.path.strip("/"):
        raise CopyError(f"bad PostgreSQL URL {redacted(location)}: no database name (postgresql://USER@HOST:PORT/NAME)")


@dataclass
class Side:
    """One end of the copy: a data dir (SQLite) or a PostgreSQL URL."""

    location: str
    engine: str
    conns: dict[str, Any] = field(default_factory=dict)  # role -> apsw.Connection | PgConnection
    held: int | None = None  # fd of the serving lock held during the copy

    @property
    def shown(self) -> str:
        return redacted(self.location) if self.engine == "postgresql" else self.location

    def conn(self, role: str) -> Any:
        return self.conns["main" if self.engine == "postgresql" else role]

    def close(self) -> None:
        for conn in self.conns.values():
            conn.close()
        self.conns.clear()
        if self.held is not None:
            os.close(self.held)
            self.held = None


def _pg_connect(location: str) -> PgConnection:
    try:
        return PgConnection.connect(location)
    except apsw.Error as exc:
        reason = str(exc).split("\n")[0].removeprefix("IOError: ").removeprefix("SQLError: ")
        raise CopyError(f"cannot connect to {redacted(location)}: {reason}") from None


def _claim_unserved(data_dir: Path, *, create: bool) -> int | None:
    """An exclusive hold on ``data_dir``'s serving lock (None when the file is absent and not
    to be created); a ``pbk serve`` running there makes it a ``CopyError``."""
    path = data_dir / SERVING_FILE
    try:
        fd = os.open(path, (os.O_RDWR | os.O_CREAT if create else os.O_RDONLY) | os.O_CLOEXEC, 0o600)
    except FileNotFoundError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise CopyError(f"a pbk server is serving {data_dir}: stop it first") from None
    return fd


def open_source(location: str) -> Side:
    if _is_url(location):
        _check_url(location)
        side = Side(location, "postgresql")
        side.conns["main"] = _pg_connect(location)
        if "_collections" not in _tables(side, "main"):
            side.close()
            raise CopyError(f"{redacted(location)} holds no pbk data set (no _collections table)")
        return side
    path = Path(location)
    if not path.is_dir():
        raise CopyError(f"no such data dir: {location}")
    if not (path / FILES["main"]).is_file():
        raise CopyError(f"{location} is not a pb_data dir (no data.db)")
    side = Side(str(path), "sqlite")
    side.held = _claim_unserved(path, create=False)  # a server starting meanwhile waits
    flags = apsw.SQLITE_OPEN_READONLY | apsw.SQLITE_OPEN_URI
    for role, name in FILES.items():
        if (path / name).is_file():
            # Without a -wal file everything is in the main file: read it as immutable, so not
            # even SQLite's -wal/-shm side files appear in the source.
            wal = (path / f"{name}-wal").exists()
            conn = apsw.Connection(f"file:{path / name}?{'mode=ro' if wal else 'immutable=1'}", flags=flags)
            conn.setbusytimeout(10_000)
            side.conns[role] = conn
    return side


def open_destination(location: str) -> Side:
    if _is_url(location):
        _check_url(location)
        create_if_missing(location)
        side = Side(location, "postgresql")
        side.conns["main"] = _pg_connect(location)
        return side
    path = Path(location)
    if path.exists() and not path.is_dir():
        raise CopyError(f"{location} is not a directory")
    path.mkdir(parents=True, exist_ok=True)
    side = Side(str(path), "sqlite")
    side.held = _claim_unserved(path, create=True)
    _open_sqlite_destination(side)
    return side


def _open_sqlite_destination(side: Side) -> None:
    for role, name in FILES.items():
        conn = apsw.Connection(str(Path(side.location) / name))
        conn.setbusytimeout(10_000)
        conn.execute("PRAGMA journal_mode=WAL")
        side.conns[role] = conn


# ---------------------------------------------------------------------------- table facts


def _tables(side: Side, role: str) -> list[str]:
    if side.engine == "sqlite" and role not in side.conns:
        return []  # a data dir without auxiliary.db
    conn = side.conn(role)
    if side.engine == "sqlite":
        rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                            "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name").fetchall()
    else:
        rows = conn.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = "
                            "current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name").fetchall()
    # The servers' own tables (the cluster's members, messages and counters) are no data.
    return [r[0] for r in rows if r[0] == MARKER or not r[0].startswith("_pbk_")]


def _columns(side: Side, role: str, table: str) -> dict[str, str]:
    """Column name -> declared type (lower case)."""
    conn = side.conn(role)
    if side.engine == "sqlite":
        rows = conn.execute(f"SELECT name, type FROM pragma_table_info({_lit(table)})").fetchall()
    else:
        rows = conn.execute("SELECT column_name, data_type FROM information_schema.columns WHERE "
                            "table_schema = current_schema() AND table_name = ? ORDER BY ordinal_position",
                            (table,)).fetchall()
    return {name: (kind or "").lower() for name, kind in rows}


def _primary_key(side: Side, table: str) -> str | None:
    """The one column of a PostgreSQL table's primary key (None for none or several)."""
    rows = side.conn("main").execute(
        "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid "
        "AND a.attnum = ANY(i.indkey) WHERE i.indisprimary AND i.indrelid = to_regclass(?)",
        (_q(table),)).fetchall()
    return rows[0][0] if len(rows) == 1 else None


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _q(name: str) -> str:
    """A double-quoted identifier (both engines read them)."""
    return '"' + name.replace('"', '""') + '"'


def _count(side: Side, role: str, table: str) -> int:
    return int(side.conn(role).execute(f"SELECT count(*) FROM {_q(table)}").fetchone()[0])


# ---------------------------------------------------------------------------- the marker


def _marker(side: Side, role: str) -> dict[str, tuple[str, int]]:
    if MARKER not in _tables(side, role):
        return {}
    rows = side.conn(role).execute(f'SELECT "tbl", "last_key", "done" FROM "{MARKER}"').fetchall()
    return {t: (k, int(d)) for t, k, d in rows}


def _create_marker(side: Side, role: str, source: str) -> None:
    conn = side.conn(role)
    with conn:
        conn.execute(f'CREATE TABLE IF NOT EXISTS "{MARKER}" ("tbl" TEXT PRIMARY KEY NOT NULL, '
                     '"last_key" TEXT NOT NULL, "done" BIGINT NOT NULL)')
        conn.execute(f'DELETE FROM "{MARKER}" WHERE "tbl" = ?', (SOURCE_KEY,))
        conn.execute(f'INSERT INTO "{MARKER}" VALUES (?, ?, 0)', (SOURCE_KEY, source))


def _note(conn: Any, table: str, last_key: str, done: int) -> None:
    conn.execute(f'DELETE FROM "{MARKER}" WHERE "tbl" = ?', (table,))
    conn.execute(f'INSERT INTO "{MARKER}" VALUES (?, ?, ?)', (table, last_key, done))


def _wipe(side: Side) -> None:
    """Empty the destination (``--overwrite``, or a copy stopped before its tables were made)."""
    if side.engine == "postgresql":
        conn = side.conn("main")
        with conn:
            for (name,) in conn.execute("SELECT table_name FROM information_schema.views "
                                        "WHERE table_schema = current_schema()").fetchall():
                conn.execute(f"DROP VIEW IF EXISTS {_q(name)} CASCADE")
            for name in _tables(side, "main"):
                conn.execute(f"DROP TABLE IF EXISTS {_q(name)} CASCADE")
        return
    for conn in side.conns.values():
        conn.close()
    side.conns.clear()
    for name in FILES.values():
        for suffix in ("", "-wal", "-shm"):
            (Path(side.location) / (name + suffix)).unlink(missing_ok=True)
    _open_sqlite_destination(side)


# ---------------------------------------------------------------------------- the schema


def _collections(source: Side) -> list[dict[str, Any]]:
    """The source's collections as PocketBase's collection JSON (options flattened)."""
    conn = source.conn("main")
    cur = conn.execute('SELECT * FROM "_collections" ORDER BY "created", "id"')
    names = [d[0] for d in cur.getdescription()]
    items = []
    for row in cur.fetchall():
        raw = dict(zip(names, row, strict=True))
        item: dict[str, Any] = {}
        for key, value in raw.items():
            if key in ("fields", "indexes", "options"):
                value = json.loads(_text(value) or ("{}" if key == "options" else "[]"))
            if key == "options":
                item.update(value or {})
            elif key == "system":
                item[key] = bool(value)
            elif key not in ("created", "updated", "rowid"):
                item[key] = value
        items.append(item)
    return items


def _text(value: Any) -> Any:
    return value.decode() if isinstance(value, bytes) else value


def make_schema(dest: Side, items: list[dict[str, Any]]) -> None:
    """Start the destination's app (every plugin makes its tables on its engine) through the
    running ``pbk`` command's app runner, import the source's collections into it, stop it."""
    from pbk_sdk.cli import app_runner
    from pbk_sdk.errors import ApiError
    from pbk_sdk.interfaces import COLLECTIONS

    async def import_collections(app: Any) -> None:
        collections = app.state.get(COLLECTIONS)
        if collections is None:
            raise CopyError("the records plugin is not loaded: it makes the collections' tables")
        try:
            await collections.import_collections(items, delete_missing=True)
        except ApiError as exc:  # the API's answer, with the failing collection's details
            detail = json.dumps(exc.data, default=str) if exc.data else ""
            raise CopyError(f"the destination refused the source's collections: {exc.message} "
                            f"{detail}".strip()) from None

    with tempfile.TemporaryDirectory(prefix="pbk-copy-") as tmp:
        empty = Path(tmp) / "empty"
        empty.mkdir()
        data_dir = Path(dest.location) if dest.engine == "sqlite" else Path(tmp) / "pb_data"
        if dest.engine == "sqlite":
            for conn in dest.conns.values():
                conn.close()
            dest.conns.clear()
        options = {"data_dir": data_dir, "db": dest.location if dest.engine == "postgresql" else None,
                   "migrations_dir": empty, "hooks_dir": empty, "automigrate": False, "hooks_watch": False}
        root = logging.getLogger()
        level = root.level
        root.setLevel(logging.WARNING)  # the app's start-up lines are not the copy's news
        try:
            app_runner().run_on(options, import_collections)
        finally:
            root.setLevel(level)
        if dest.engine == "sqlite":
            _open_sqlite_destination(dest)


# ---------------------------------------------------------------------------- rows


@dataclass
class Plan:
    table: str
    src_role: str
    role: str  # the destination's
    key: str  # the source's ordering column: rowid (or the primary key where a PostgreSQL table has none)
    columns: list[str]
    keep_rowid: bool  # the destination gets the source's rowid too
    dest_types: dict[str, str]
    total: int = 0


def plan(source: Side, dest: Side) -> tuple[list[Plan], list[str]]:
    plans: list[Plan] = []
    skipped: list[str] = []
    for role in ("main", "aux"):
        if source.engine == "sqlite" and role not in source.conns:
            continue
        if source.engine == "postgresql" and role == "aux":
            continue  # one database: its _logs is among the main tables
        dest_tables = set(_tables(dest, "main")) | set(_tables(dest, "aux"))
        for table in _tables(source, role):
            if table == MARKER:
                continue
            if table not in dest_tables:
                skipped.append(table)
                continue
            dest_role = "aux" if table in AUX_TABLES else "main"
            src_cols = _columns(source, role, table)
            dst_cols = _columns(dest, dest_role, table)
            if source.engine == "sqlite" or "rowid" in src_cols:
                key = "rowid"
            else:
                key = _primary_key(source, table) or ""
                if not key:
                    raise CopyError(f"table {table} has neither a rowid nor a one-column primary key to copy it by")
            columns = [c for c in src_cols if c in dst_cols and c != "rowid"]
            keep = key == "rowid" and (dest.engine == "sqlite" or "rowid" in dst_cols)
            plans.append(Plan(table, role, dest_role, key, columns, keep, dst_cols, _count(source, role, table)))
    return plans, skipped


def _convert(value: Any, kind: str, dest: Side, table: str) -> Any:
    if dest.engine == "postgresql":
        if kind == "boolean":
            return None if value is None else bool(value) if not isinstance(value, str) else value not in ("", "0")
        if kind in ("json", "jsonb") and value is not None:
            text = _text(value)
            try:
                json.loads(text)
            except ValueError:
                return json.dumps(text)  # e.g. an encrypted setting: base64 text as a JSON string
            return text
        if isinstance(value, bytes) and kind != "bytea":
            return value.decode()
        return value
    if table == "_params" and isinstance(value, str) and value.startswith('"'):
        return json.loads(value)  # an encrypted setting, stored as SQLite's plain text again
    return value


def copy_table(source: Side, dest: Side, p: Plan, batch: int, before: tuple[str, int] | None,
               progress: Callable[[Plan, int], None]) -> int:
    """Copy the rows after the last key ``before`` recorded; the number of rows copied in all."""
    src = source.conn(p.src_role)
    dst = dest.conn(p.role)
    last: Any = json.loads(before[0]) if before else None
    done = before[1] if before else 0
    data = [c for c in p.columns if c != p.key]
    select = ", ".join(_q(c) for c in [p.key, *data])
    keyed = p.keep_rowid or p.key != "rowid"  # the key column is written too
    names = ([p.key] if keyed else []) + data
    insert = (f"INSERT INTO {_q(p.table)} ({', '.join(_q(c) for c in names)}) "
              f"VALUES ({', '.join('?' for _ in names)})")
    kinds = [p.dest_types.get(c, "") for c in names]
    progress(p, done)
    while True:
        where = f" WHERE {_q(p.key)} > ?" if last is not None else ""
        rows = src.execute(f"SELECT {select} FROM {_q(p.table)}{where} "
                           f"ORDER BY {_q(p.key)} LIMIT {int(batch)}",
                           (last,) if last is not None else ()).fetchall()
        if not rows:
            return done
        values = [[_convert(v, k, dest, p.table) for v, k in zip(row if keyed else row[1:], kinds, strict=True)]
                  for row in rows]
        with dst:
            if before is None and done == 0:
                dst.execute(f"DELETE FROM {_q(p.table)}")  # what the destination's app put there
            dst.executemany(insert, values)
            last = rows[-1][0]
            done += len(rows)
            _note(dst, p.table, json.dumps(last), done)
        progress(p, done)
        if len(rows) < batch:
            return done


def _finish_table(dest: Side, p: Plan, done: int) -> None:
    conn = dest.conn(p.role)
    with conn:
        if done == 0:
            conn.execute(f"DELETE FROM {_q(p.table)}")
        if dest.engine == "postgresql" and "rowid" in p.dest_types:
            conn.execute(f"SELECT setval(pg_get_serial_sequence({_lit(_q(p.table))}, 'rowid'), "
                         f"COALESCE((SELECT max(rowid) FROM {_q(p.table)}), 0) + 1, false)")
        _note(conn, p.table, "null", done)  # a null last key: finished


# ---------------------------------------------------------------------------- the command


class Progress:
    """Per table ``rows done/total`` on one rewritten stderr line (nothing when quiet)."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet or not sys.stderr.isatty()
        self._shown = 0.0

    def __call__(self, p: Plan, done: int) -> None:
        if self.quiet:
            return
        now = time.monotonic()
        if done < p.total and now - self._shown < 0.1:
            return
        self._shown = now
        width = 30
        filled = width * done // p.total if p.total else width
        line = f"{p.table[:28]:<28} [{'#' * filled}{'.' * (width - filled)}] {done}/{p.total}"
        sys.stderr.write("\r" + line + ("\n" if done >= p.total else ""))
        sys.stderr.flush()


@contextmanager
def _opened(location: str, opener: Callable[[str], Side]) -> Iterator[Side]:
    side = opener(location)
    try:
        yield side
    finally:
        side.close()


def copy(source_location: str, dest_location: str, *, batch: int = 1000, logs: bool = True,
         overwrite: bool = False, quiet: bool = False, say: Callable[[str], None] = print) -> None:
    """Copy the data set; raises ``CopyError`` with the one-line reason it stopped."""
    if not _is_url(source_location) and not _is_url(dest_location) and (
            Path(source_location).resolve() == Path(dest_location).resolve()):
        raise CopyError("the source and the destination are the same data dir")
    if source_location == dest_location:
        raise CopyError("the source and the destination are the same database")
    with _opened(source_location, open_source) as source, _opened(dest_location, open_destination) as dest:
        identity = source.shown if source.engine == "postgresql" else str(Path(source.location).resolve())
        marker = _marker(dest, "main")
        if marker:
            if marker.get(SOURCE_KEY, ("", 0))[0] != identity and not overwrite:
                raise CopyError(f"{dest.shown} holds an unfinished copy of another data set "
                                f"({marker.get(SOURCE_KEY, ('?', 0))[0]}): pass --overwrite to replace it")
            if marker.get(SOURCE_KEY, ("", 0))[0] != identity or SCHEMA_DONE not in marker:
                _wipe(dest)
                marker = {}
            else:
                say(f"Resuming the copy from {source.shown} into {dest.shown}")
        else:
            held = [t for r in ("main", "aux") for t in _tables(dest, r)]
            if held and not overwrite:
                raise CopyError(f"{dest.shown} already holds a data set ({len(held)} tables): "
                                "pass --overwrite to replace it")
            if held:
                _wipe(dest)
        if not marker:
            _create_marker(dest, "main", identity)
            make_schema(dest, _collections(source))
            if dest.engine == "sqlite":
                _create_marker(dest, "aux", identity)
            conn = dest.conn("main")
            with conn:
                _note(conn, SCHEMA_DONE, "null", 0)
            marker = {}
        plans, skipped = plan(source, dest)
        if not logs:
            plans = [p for p in plans if p.table != "_logs"]
        for table in skipped:
            say(f"Skipped table {table}: the destination's plugins have no such table")
        show = Progress(quiet)
        for p in plans:
            before = _marker(dest, p.role).get(p.table)
            if before is not None and before[0] == "null":
                show(p, p.total)
                continue
            done = copy_table(source, dest, p, batch, before, show)
            _finish_table(dest, p, done)
        wrong = []
        for p in plans:
            have, want = _count(dest, p.role, p.table), p.total
            if have != want:
                wrong.append(f"{p.table} ({want} in the source, {have} in the destination)")
        if wrong:
            raise CopyError("the counts differ: " + ", ".join(wrong))
        for role in ("main", "aux") if dest.engine == "sqlite" else ("main",):
            conn = dest.conn(role)
            with conn:
                conn.execute(f'DROP TABLE IF EXISTS "{MARKER}"')
        rows = sum(p.total for p in plans)
        say(f"Copied {len(plans)} tables, {rows} rows, from {source.shown} to {dest.shown}; the counts agree.")
        say(FILES_NOTE.format(where=source.shown if source.engine == "sqlite" else "the source's storage"))
