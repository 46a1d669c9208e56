"""``_logs`` as PocketBase creates it in ``auxiliary.db`` (on PostgreSQL: in the one database,
laid out as pbk lays out every table there), and its rows as the API shows them."""

from __future__ import annotations

from typing import Any

import orjson
from pbk_sdk import Migration
from pbk_sdk.interfaces import FixedTable

#: PocketBase's own migration name: either program sees the table as created by the other.
AUX_INIT = "1640988000_aux_init.go"
LOGS = "_logs"
#: What ``?filter`` and ``?sort`` may name (``data`` also by path, ``data.status``).
LOGS_TABLE = FixedTable(
    LOGS, {"id": "text", "created": "text", "level": "number", "message": "text", "data": "json"}
)
CREATE_LOGS = (
    """CREATE TABLE IF NOT EXISTS `_logs` (
\t\t\t\t\t`id`      TEXT PRIMARY KEY DEFAULT ('r'||lower(hex(randomblob(7)))) NOT NULL,
\t\t\t\t\t`level`   INTEGER DEFAULT 0 NOT NULL,
\t\t\t\t\t`message` TEXT DEFAULT "" NOT NULL,
\t\t\t\t\t`data`    JSON DEFAULT "{}" NOT NULL,
\t\t\t\t\t`created` TEXT DEFAULT (strftime('%Y-%m-%d %H:%M:%fZ')) NOT NULL
\t\t\t\t)""",
    "CREATE INDEX IF NOT EXISTS idx_logs_level on `_logs` (`level`)",
    "CREATE INDEX IF NOT EXISTS idx_logs_message on `_logs` (`message`)",
    "CREATE INDEX IF NOT EXISTS idx_logs_created_hour on `_logs` (strftime('%Y-%m-%d %H:00:00', `created`))",
)
#: The same table on PostgreSQL: text in byte order (``COLLATE "C"``, SQLite's ``BINARY``),
#: ``data`` as ``json`` (the text kept as written), ``created`` in PocketBase's format; the
#: hourly index on the ``YYYY-MM-DD HH`` prefix that the stats group by.
CREATE_LOGS_POSTGRES = (
    """CREATE TABLE IF NOT EXISTS "_logs" (
    "id"      TEXT COLLATE "C" PRIMARY KEY DEFAULT ('r' || substr(md5(random()::text), 1, 14)) NOT NULL,
    "level"   INTEGER DEFAULT 0 NOT NULL,
    "message" TEXT COLLATE "C" DEFAULT '' NOT NULL,
    "data"    JSON DEFAULT '{}' NOT NULL,
    "created" TEXT COLLATE "C"
              DEFAULT (to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.MS"Z"')) NOT NULL
)""",
    'CREATE INDEX IF NOT EXISTS idx_logs_level ON "_logs" ("level")',
    'CREATE INDEX IF NOT EXISTS idx_logs_message ON "_logs" ("message")',
    'CREATE INDEX IF NOT EXISTS idx_logs_created_hour ON "_logs" ((substr("created", 1, 13)))',
)
#: The columns in the order the API shows an item.
COLUMNS = "id, created, data, message, level"


def create_logs_table(conn: Any) -> None:
    """PocketBase's ``_logs`` (``IF NOT EXISTS``: PocketBase re-runs it when the table is gone)."""
    for statement in CREATE_LOGS:
        conn.execute(statement)


def create_logs_table_postgres(conn: Any) -> None:
    for statement in CREATE_LOGS_POSTGRES:
        conn.execute(statement)


def has_logs_table(conn: Any) -> bool:
    return conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (LOGS,)).get is not None


def has_logs_table_postgres(conn: Any) -> bool:
    return conn.execute("SELECT to_regclass(?) IS NOT NULL", (f'"{LOGS}"',)).fetchone()[0] in (1, True)


async def recreate_if_dropped(db: Any) -> None:
    """As PocketBase: a dropped ``_logs`` is created again at start."""
    postgres = db.engine == "postgresql"
    if not await db.read(has_logs_table_postgres if postgres else has_logs_table):
        await db.write(create_logs_table_postgres if postgres else create_logs_table)


def migrations(engine: str) -> list[Migration]:
    create = create_logs_table_postgres if engine == "postgresql" else create_logs_table
    return [Migration(AUX_INIT, create, database="auxiliary")]


def item(row: tuple[Any, ...]) -> dict[str, Any]:
    """One ``(id, created, data, message, level)`` row as PocketBase's API shows it."""
    log_id, created, data, message, level = row
    try:
        parsed = orjson.loads(data) if data else {}
    except orjson.JSONDecodeError:
        parsed = {}
    return {"id": log_id, "created": created, "data": parsed, "message": message, "level": level}
