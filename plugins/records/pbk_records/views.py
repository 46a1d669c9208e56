"""View collections: fields inferred from the view query's result columns, as PocketBase does.

A column straight from a collection field is a copy of that field (id ``_clone_xxxx``);
``COUNT(...)`` becomes an integer number, ``CAST(... AS TEXT)`` text, a numeric cast a number,
and any other expression (``SUM`` included, as in PocketBase) a ``json`` field.
"""

from __future__ import annotations

import re
import string
from typing import Any

import apsw
from pbk_sdk.errors import ApiError, FieldError
from pbk_sdk.ids import new_id

from . import view_query
from .collections import Registry
from .ddl import pg_quote
from .schema import Field, field_id
from .view_query import sqlite_message

COUNT_EXPRESSION = re.compile(r"^\s*count\s*\(", re.IGNORECASE)
NUMERIC_CAST = re.compile(r"^\s*cast\s*\(.*\bas\s+(integer|int|real|numeric|float|double)\s*\)\s*$", re.IGNORECASE | re.DOTALL)
TEXT_CAST = re.compile(r"^\s*cast\s*\(.*\bas\s+text\s*\)\s*$", re.IGNORECASE | re.DOTALL)
CLONE_ALPHABET = string.ascii_letters + string.digits
ID_SAMPLE = 10
#: The id field of every view, as PocketBase infers it.
VIEW_ID_FIELD = {
    "autogeneratePattern": "", "help": "", "hidden": False, "id": "text3208210256", "max": 0, "min": 0,
    "name": "id", "pattern": "^[a-z0-9]+$", "presentable": False, "primaryKey": True, "required": True,
    "system": True, "type": "text",
}


def clone_id() -> str:
    """PocketBase names a field copied into a view ``_clone_`` + 4 random characters."""
    return "_clone_" + new_id(4, CLONE_ALPHABET)


def _column_expressions(query: str) -> dict[str, str]:
    """Best-effort ``alias -> expression`` from the SELECT list, to type computed columns."""
    match = re.match(r"\s*select\s+(distinct\s+)?(?P<cols>.*?)\s+from\s", query, re.IGNORECASE | re.DOTALL)
    if not match:
        return {}
    columns, depth, current = [], 0, []
    for char in match.group("cols"):
        depth += char == "("
        depth -= char == ")"
        if char == "," and depth == 0:
            columns.append("".join(current))
            current = []
        else:
            current.append(char)
    columns.append("".join(current))
    out = {}
    for column in columns:
        alias = re.search(r"\bas\s+[`\"\[]?(\w+)[`\"\]]?\s*$", column.strip(), re.IGNORECASE)
        if alias:
            out[alias.group(1)] = column
    return out


def infer_fields(conn: apsw.Connection, view_name: str, query: str, registry: Registry) -> list[Field]:
    """Fields of the view ``view_name`` (already created in this transaction)."""
    failure = "Failed to create collection."
    sqlite = isinstance(conn, apsw.Connection)
    try:
        if sqlite:
            cursor = conn.execute(f"SELECT v.* FROM (SELECT 1) LEFT JOIN `{view_name}` AS v ON 1 LIMIT 1")
            description = cursor.description_full
            cursor.fetchall()
        else:
            description = _pg_description(conn, query)
    except apsw.Error as exc:
        raise ApiError(400, failure, {
            "fields": FieldError("validation_required", "Cannot be blank."),
            "viewQuery": FieldError("validation_invalid_view_query", f"Invalid query - {sqlite_message(exc)}"),
        }) from exc
    expressions = _column_expressions(query)
    fields: list[Field] = []
    names = [column[0] for column in description]
    if "id" not in names:
        raise ApiError(400, failure, {"viewQuery": FieldError("validation_invalid_view_query", "Invalid query - missing required id column.")})
    _check_sample_ids(conn, f"`{view_name}`" if sqlite else pg_quote(view_name), failure)
    for name, _decltype, _database, table, origin in description:
        if name == "id":
            fields.append(Field(dict(VIEW_ID_FIELD)))
            continue
        source = registry.get(table) if table else None
        if not sqlite and origin == "rowid" and source is not None:
            continue  # the identity column of PostgreSQL's tables (``SELECT *``): no field
        source_field = source.field(origin) if source is not None and origin else None
        if source_field is not None:
            fields.append(Field({**source_field.data, "id": clone_id(), "name": name, "system": False}))
            continue
        expression = _alias_expression(expressions.get(name, ""))
        if COUNT_EXPRESSION.match(expression):
            fields.append(Field({"name": name, "type": "number", "id": field_id("number", name), "onlyInt": True}))
        elif NUMERIC_CAST.match(expression):
            fields.append(Field({"name": name, "type": "number", "id": field_id("number", name)}))
        elif TEXT_CAST.match(expression):
            fields.append(Field({"name": name, "type": "text", "id": field_id("text", name)}))
        else:
            fields.append(Field({"name": name, "type": "json", "id": field_id("json", name), "maxSize": 1}))
    return fields


def _pg_description(conn: Any, query: str) -> Any:
    """``description_full`` of the view query on PostgreSQL, run without rows: the connection
    names each column's table and column as SQLite's does (a view's own, PostgreSQL's result
    metadata stopping there)."""
    return conn.execute(f"SELECT * FROM ({view_query.normalize(query)}) AS _pbk_view LIMIT 0").description_full


def _check_sample_ids(conn: apsw.Connection, view: str, failure: str) -> None:
    """PocketBase's dry run: the first ``ID_SAMPLE`` rows must have ids, all different (a
    quick, helpful check, not a guarantee). ``view``: the quoted name."""
    ids = [row[0] for row in conn.execute(f"SELECT id FROM {view} LIMIT {ID_SAMPLE}")]
    problem = None
    if any(i is None or str(i) == "" for i in ids):
        problem = "the query could return records with empty or invalid ids"
    elif len(set(map(str, ids))) != len(ids):
        problem = "the query could return records with non-unique ids"
    if problem:
        raise ApiError(400, failure, {"viewQuery": FieldError("validation_invalid_view_query", f"Invalid query - {problem}")})


def _alias_expression(column: str) -> str:
    """The expression part of ``expr AS alias``."""
    return re.sub(r"\s+as\s+[`\"\[]?\w+[`\"\]]?\s*$", "", column.strip(), flags=re.IGNORECASE)
