"""The ``app`` a migration file's ``up(app)``/``down(app)`` gets: PocketBase's migration API in
plain (blocking) Python, every call inside the migration's transaction.

The step runs in a thread of its own; each call hands a coroutine to the event loop, which
runs it in the step's context (the open transaction, the schema as the step changed it), and
waits for its result, so a step reads like PocketBase's ``migrate((app) => {...})``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Iterable, Mapping, Sequence
from typing import Any, TypeVar

import apsw
from pbk_sdk.interfaces import COLLECTIONS, RECORD_STORE, App, CollectionInfo

T = TypeVar("T")


class MigrationApp:
    """Collections as PocketBase's collection JSON, records as API values, and SQL."""

    def __init__(self, app: App, loop: asyncio.AbstractEventLoop) -> None:
        self._app = app
        self._loop = loop
        self._collections = app.state[COLLECTIONS]

    def _run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result()

    def _collection(self, id_or_name: str) -> CollectionInfo:
        collection = self._collections.get(id_or_name)
        if collection is None:
            raise LookupError(f"no collection {id_or_name!r}")
        return collection

    # ------------------------------------------------------------------ collections

    def find_collection(self, id_or_name: str) -> dict[str, Any] | None:
        """The collection's JSON, or None."""
        collection = self._collections.get(id_or_name)
        return collection.to_json() if collection is not None else None

    def save_collection(self, data: Mapping[str, Any]) -> dict[str, Any]:
        """Create the collection, or update the one with ``data``'s id (without one, its name) from
        ``data`` as ``PATCH /api/collections/{id}`` does; returns its JSON."""
        return self._run(self._collections.save(data)).to_json()

    def update_collection(
        self,
        id_or_name: str,
        changes: Mapping[str, Any],
        *,
        add_fields: Mapping[int, Mapping[str, Any]] | None = None,
        change_fields: Mapping[str, Mapping[str, Any]] | None = None,
        remove_fields: Mapping[int, Mapping[str, Any]] | Iterable[Mapping[str, Any] | str] = (),
    ) -> dict[str, Any]:
        """``changes`` to the collection's keys, and to its fields (the ``changes["fields"]``
        list, else the current one): ``remove_fields`` (fields or ids) go, ``change_fields``
        replace the field of their id, ``add_fields`` are put at their positions
        (``{2: {...}}``); returns its JSON."""
        current = self.find_collection(id_or_name)
        if current is None:
            raise LookupError(f"no collection {id_or_name!r}")
        items = remove_fields.values() if isinstance(remove_fields, Mapping) else remove_fields
        removed = {item["id"] if isinstance(item, Mapping) else item for item in items}
        replaced = change_fields or {}
        listed = changes.get("fields", current["fields"])
        fields = [replaced.get(f.get("id"), f) for f in listed if f.get("id") not in removed]  # new ones have no id
        for position, field in sorted((add_fields or {}).items()):
            fields.insert(position, field)
        return self.save_collection({**changes, "id": current["id"], "fields": fields})

    def delete_collection(self, id_or_name: str) -> None:
        self._run(self._collections.delete(id_or_name))

    def import_collections(self, collections: Sequence[Mapping[str, Any]], delete_missing: bool = False) -> None:
        """``PUT /api/collections/import``: save each, and with ``delete_missing`` drop the
        unlisted ones (system collections stay)."""
        self._run(self._collections.import_collections(collections, delete_missing))

    # ------------------------------------------------------------------ records

    def find_record(self, collection: str, record_id: str) -> dict[str, Any] | None:
        store = self._app.services.get(RECORD_STORE)
        return self._run(store.get(self._collection(collection), record_id))

    def find_records(
        self, collection: str, filter: str = "", sort: str = "", params: Mapping[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        """Records matching ``filter`` (PocketBase's filter language, ``{:name}`` from
        ``params``), ordered by ``sort``, without rules."""
        store = self._app.services.get(RECORD_STORE)
        return self._run(store.list(self._collection(collection), filter=filter, sort=sort, params=params))

    def save_record(self, collection: str, data: Mapping[str, Any]) -> dict[str, Any]:
        """Update the record with ``data["id"]`` if there is one, else create it (validated,
        events fired, no rules)."""
        store = self._app.services.get(RECORD_STORE)
        target = self._collection(collection)
        record_id = data.get("id")

        async def save() -> dict[str, Any]:
            if record_id and await store.get(target, str(record_id)) is not None:
                return await store.update(target, str(record_id), data)
            return await store.create(target, data)

        return self._run(save())

    def delete_record(self, collection: str, record_id: str) -> None:
        store = self._app.services.get(RECORD_STORE)
        self._run(store.delete(self._collection(collection), record_id))

    # ------------------------------------------------------------------ SQL

    def execute(self, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()) -> list[tuple[Any, ...]]:
        """Run ``sql`` on ``data.db`` (values as ``?``/``:name`` parameters, never in the
        text); returns the rows it yields."""

        def run(conn: apsw.Connection) -> list[tuple[Any, ...]]:
            return [tuple(row) for row in conn.execute(sql, params)]

        return self._run(self._app.db.write(run))
