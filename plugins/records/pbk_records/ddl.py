"""Collection tables and views, created and changed with real DDL.

Tables look exactly like PocketBase's (columns sorted by name, the same types and defaults),
so a ``pb_data`` moves between the two programs. Every function here takes an
``apsw.Connection`` inside the caller's transaction: a failed schema change leaves nothing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import apsw
from pbk_sdk.interfaces import FieldType

from . import view_query
from .schema import Collection, Field

INDEX_NAME = re.compile(r"^\s*CREATE\s+(UNIQUE\s+)?INDEX\s+(IF\s+NOT\s+EXISTS\s+)?[`\"\[]?(\w+)[`\"\]]?", re.IGNORECASE)


class NotOneStatement(ValueError):
    """Schema SQL from a client (an index, a view query) held more than one statement."""


def execute_one(conn: apsw.Connection, sql: str) -> None:
    """Execute ``sql`` only if it is exactly one statement: APSW would run them all."""
    import apsw.ext  # here: a schema change needs it, start-up does not (tens of ms, a few MB)

    remaining = apsw.ext.query_info(conn, sql).query_remaining
    if remaining and remaining.strip(" \t\r\n;"):
        raise NotOneStatement(sql)
    conn.execute(sql)


def quote(identifier: str) -> str:
    """A backtick-quoted SQLite identifier (names come from validated schemas only)."""
    return "`" + identifier.replace("`", "``") + "`"


def column_definitions(collection: Collection, field_types: Mapping[str, FieldType]) -> list[str]:
    columns = []
    for field in sorted(collection.fields, key=lambda f: f.name):
        field_type = field_types[field.type]
        columns.append(f"{quote(field.name)} {field_type.column_definition(field.data)}")
    return columns


def create(conn: apsw.Connection, collection: Collection, field_types: Mapping[str, FieldType]) -> None:
    """Create the collection's table (or view) and its indexes."""
    if collection.is_view:
        # Wrapped as PocketBase does, which also keeps a trailing "--" from commenting out SQL
        # that follows (it makes the statement incomplete instead).
        query = view_query.normalize(collection.view_query)
        execute_one(conn, f"CREATE VIEW {quote(collection.name)} AS SELECT * FROM ({query})")
        return
    columns = ", ".join(column_definitions(collection, field_types))
    conn.execute(f"CREATE TABLE {quote(collection.name)} ({columns})")
    _create_indexes(conn, collection.indexes)


def _create_indexes(conn: apsw.Connection, indexes: list[str]) -> None:
    for index in indexes:
        try:
            execute_one(conn, index)
        except (apsw.Error, NotOneStatement) as exc:
            exc.pbk_statement = index  # lets the caller name the failing index
            raise


def drop(conn: apsw.Connection, collection: Collection) -> None:
    kind = "VIEW" if collection.is_view else "TABLE"
    conn.execute(f"DROP {kind} IF EXISTS {quote(collection.name)}")


def index_name(index_sql: str) -> str | None:
    match = INDEX_NAME.match(index_sql)
    return match.group(3) if match else None


def update(
    conn: apsw.Connection, old: Collection, new: Collection, field_types: Mapping[str, FieldType]
) -> None:
    """Change ``old``'s table into ``new``'s: rename, drop/rename/add/convert columns, indexes.

    Fields are matched by id, so a renamed field keeps its data.
    """
    if old.is_view or new.is_view:
        drop(conn, old)
        create(conn, new, field_types)
        return
    for index in old.indexes:
        name = index_name(index)
        if name:
            conn.execute(f"DROP INDEX IF EXISTS {quote(name)}")
    if old.name != new.name:
        conn.execute(f"ALTER TABLE {quote(old.name)} RENAME TO {quote(new.name)}")
    table = quote(new.name)
    new_by_id = {f.id: f for f in new.fields}
    for field in old.fields:
        if field.id not in new_by_id:
            conn.execute(f"ALTER TABLE {table} DROP COLUMN {quote(field.name)}")
    for field in new.fields:
        previous = old.field_by_id(field.id)
        definition = field_types[field.type].column_definition(field.data)
        if previous is None:
            conn.execute(f"ALTER TABLE {table} ADD COLUMN {quote(field.name)} {definition}")
            continue
        if previous.name != field.name:
            conn.execute(
                f"ALTER TABLE {table} RENAME COLUMN {quote(previous.name)} TO {quote(field.name)}"
            )
        old_definition = field_types[previous.type].column_definition(previous.data)
        if old_definition != definition:
            _convert_column(conn, table, previous, field, definition, field_types)
    _create_indexes(conn, new.indexes)


def _convert_column(
    conn: apsw.Connection,
    table: str,
    old: Field,
    new: Field,
    definition: str,
    field_types: Mapping[str, FieldType],
) -> None:
    """Rebuild one column with a new definition, converting single <-> multiple values."""
    column = quote(new.name)
    temp = quote(f"_pbk_tmp_{new.name}")
    old_multi = field_types[old.type].is_multiple(old.data)
    new_multi = field_types[new.type].is_multiple(new.data)
    if new_multi and not old_multi:
        expression = (
            f"CASE WHEN {column} IS NULL OR {column} = '' THEN '[]' "
            f"WHEN json_valid({column}) AND json_type({column}) = 'array' THEN {column} "
            f"ELSE json_array({column}) END"
        )
    elif old_multi and not new_multi:
        # PocketBase keeps the last element when a multiple field becomes single.
        expression = (
            f"CASE WHEN json_valid({column}) AND json_type({column}) = 'array' "
            f"THEN COALESCE(json_extract({column}, '$[#-1]'), '') ELSE {column} END"
        )
    else:
        expression = column
    conn.execute(f"ALTER TABLE {table} ADD COLUMN {temp} {definition}")
    conn.execute(f"UPDATE {table} SET {temp} = {expression}")
    conn.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
    conn.execute(f"ALTER TABLE {table} RENAME COLUMN {temp} TO {column}")
