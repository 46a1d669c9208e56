"""The ``table_filter`` service: the filter language over a fixed table that is no collection.

Other plugins (the logs plugin's ``_logs``) let clients filter, sort and page a table of
their own as PocketBase's ``SimpleFieldResolver`` does: only the table's columns, JSON
columns also by path, no relations and no ``@collection``. The table is presented to the
compiler as a collection of plain fields, so the language and its errors stay the records'.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache

from pbk_sdk.interfaces import App, FixedTable, TableQuery

from .filter import RequestInfo, compile_filter, compile_sort, dialect_for
from .reads import Page
from .schema import Collection, Field

#: Column kinds a fixed table may declare, as the field type the compiler knows them by.
FIELD_TYPES = {"text": "text", "number": "number", "bool": "bool", "json": "json"}
#: A client's filter on such a table is trusted as a superuser's: these tables are for them.
_SUPERUSER = RequestInfo(is_superuser=True)


@lru_cache(maxsize=32)
def _as_collection(name: str, columns: tuple[tuple[str, str], ...]) -> Collection:
    fields = [Field({"id": column, "name": column, "type": FIELD_TYPES[kind]}) for column, kind in columns]
    return Collection(id=name, name=name, fields=fields)


def _no_collections(_: str) -> Collection | None:
    """``@collection.*`` names nothing here (an unknown name is the language's 400)."""
    return None


class TableFilterCompiler:
    """``TableFilter``: ``compile`` a ``?filter``/``?sort`` pair and read ``?page``."""

    def __init__(self, app: App) -> None:
        self._app = app

    def compile(self, table: FixedTable, *, filter: str = "", sort: str = "") -> TableQuery:
        unknown = {kind for kind in table.columns.values() if kind not in FIELD_TYPES}
        if unknown:
            raise ValueError(f"table {table.name!r}: unknown column kinds {sorted(unknown)}")
        collection = _as_collection(table.name, tuple(table.columns.items()))
        dialect = dialect_for(self._app.db.engine)
        where = compile_filter(filter, collection, _no_collections, _SUPERUSER, dialect=dialect) if filter else None
        order = compile_sort(sort, collection, _no_collections, _SUPERUSER, dialect=dialect) if sort else None
        return TableQuery(
            where=where.sql if where else "",
            params=tuple(where.params) if where else (),
            order_by=order.sql if order else "",
            order_params=tuple(order.params) if order else (),
        )

    def page(self, query: Mapping[str, str]) -> Page:
        return Page.parse(query)
