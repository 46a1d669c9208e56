"""View collections: fields inferred from the view query's result columns, as PocketBase does.

A column that comes straight from a collection field keeps that field's type and options;
``COUNT``/``SUM``/``TOTAL``/numeric casts become numbers; anything else becomes ``json``.
"""

from __future__ import annotations

import re
from typing import Any

import apsw
from pbk_sdk.errors import ApiError, FieldError

from .collections import Registry
from .schema import Field, field_id

NUMERIC_EXPRESSION = re.compile(r"\b(count|sum|total|avg|min|max)\s*\(|cast\s*\(.*\bas\s+(integer|real|numeric|int)\b", re.I)
TEXT_CAST = re.compile(r"cast\s*\(.*\bas\s+text\b", re.I)


def _column_expressions(query: str) -> dict[str, str]:
    """Best-effort ``alias -> expression`` from the SELECT list, to type computed columns."""
    match = re.match(r"\s*select\s+(distinct\s+)?(?P<cols>.*?)\s+from\s", query, re.I | re.S)
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
        alias = re.search(r"\bas\s+[`\"\[]?(\w+)[`\"\]]?\s*$", column.strip(), re.I)
        if alias:
            out[alias.group(1)] = column
    return out


def infer_fields(conn: apsw.Connection, view_name: str, query: str, registry: Registry) -> list[Field]:
    """Fields of the view ``view_name`` (already created in this transaction)."""
    failure = "Failed to create collection."
    try:
        cursor = conn.execute(f"SELECT v.* FROM (SELECT 1) LEFT JOIN `{view_name}` AS v ON 1 LIMIT 1")
        description = cursor.description_full
        cursor.fetchall()
    except apsw.Error as exc:
        raise ApiError(400, failure, {"viewQuery": FieldError("validation_invalid_view_query", f"Invalid query - {exc}")}) from exc
    expressions = _column_expressions(query)
    fields: list[Field] = []
    names = [column[0] for column in description]
    if "id" not in names:
        raise ApiError(400, failure, {"viewQuery": FieldError("validation_invalid_view_query", "Invalid query - missing required id column.")})
    for name, _decltype, _database, table, origin in description:
        source = registry.get(table) if table else None
        source_field = source.field(origin) if source is not None and origin else None
        if source_field is not None:
            data: dict[str, Any] = {**source_field.data, "name": name, "system": False}
            if name == "id":
                data = {**source_field.data}
            else:
                data["id"] = field_id(source_field.type, name)
                if source_field.type == "text":
                    data["primaryKey"] = False
            fields.append(Field(data))
            continue
        expression = expressions.get(name, "")
        if name == "id":
            kind = "text"
        elif NUMERIC_EXPRESSION.search(expression):
            kind = "number"
        elif TEXT_CAST.search(expression):
            kind = "text"
        else:
            kind = "json"
        fields.append(Field({"name": name, "type": kind, "id": field_id(kind, name), "system": name == "id"}))
    return fields

