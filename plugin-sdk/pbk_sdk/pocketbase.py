"""PocketBase 0.40's on-disk shapes that more than one part of pbk writes.

The kernel creates ``_params`` when settings are first saved; the records plugin creates it as
part of PocketBase's own init migration. Both use this statement, byte for byte PocketBase's,
so either program opens the other's ``pb_data``. On PostgreSQL (docs/scale-out.md) both use
``CREATE_PARAMS_TABLE_PG``: ``value`` is ``json`` there, so encrypted settings (base64 text) are
stored as a JSON string.
"""

CREATE_PARAMS_TABLE = """CREATE TABLE IF NOT EXISTS `_params` (
\t\t\t`id`      TEXT PRIMARY KEY DEFAULT ('r'||lower(hex(randomblob(7)))) NOT NULL,
\t\t\t`value`   JSON DEFAULT NULL,
\t\t\t`created` TEXT DEFAULT (strftime('%Y-%m-%d %H:%M:%fZ')) NOT NULL,
\t\t\t`updated` TEXT DEFAULT (strftime('%Y-%m-%d %H:%M:%fZ')) NOT NULL
\t\t)"""

CREATE_PARAMS_TABLE_PG = """CREATE TABLE IF NOT EXISTS "_params" (
	"id"      TEXT COLLATE "C" PRIMARY KEY NOT NULL,
	"value"   JSON DEFAULT NULL,
	"created" TEXT COLLATE "C" DEFAULT '' NOT NULL,
	"updated" TEXT COLLATE "C" DEFAULT '' NOT NULL
)"""
