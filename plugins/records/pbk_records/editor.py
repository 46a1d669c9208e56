"""``pbk_sdk.interfaces.Collections``: collection changes from code (migrations, hooks), through
the same checks and DDL as the collections API."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any

from pbk_sdk.errors import ApiError

from .collections import Registry, import_view
from .schema import Collection
from .schema_changes import SchemaChanges


class CollectionEditor:
    """What ``app.state[COLLECTIONS]`` offers (see its protocol)."""

    def __init__(self, changes: SchemaChanges) -> None:
        self.changes = changes

    def get(self, id_or_name: str) -> Collection | None:
        return self.changes.schema.get(id_or_name)

    def all(self) -> list[Collection]:
        return list(self.changes.schema.all())

    async def save(self, data: Mapping[str, Any]) -> Collection:
        schema = self.changes.schema
        wanted = str(data.get("id") or "")
        if wanted:  # by id only: a name taken by another id fails as a create, as in PocketBase
            existing = schema.get(wanted)
            existing = existing if existing is not None and existing.id == wanted else None
        else:
            existing = schema.get(str(data.get("name") or ""))
        if existing is None:
            saved = await self.changes.create(data, system=bool(data.get("system")))
        else:
            saved = await self.changes.update(existing, data)
        await self._see_uncommitted()
        return saved

    async def delete(self, id_or_name: str) -> None:
        collection = self.get(id_or_name)
        if collection is None:
            raise ApiError(404, "Missing collection context.")
        await self.changes.delete(collection)
        await self._see_uncommitted()

    async def import_collections(self, items: Sequence[Mapping[str, Any]], delete_missing: bool = False) -> None:
        await self.changes.import_collections(list(items), delete_missing)

    @contextlib.asynccontextmanager
    async def changing(self) -> AsyncIterator[None]:
        async with self.changes.db.transaction():
            # Reset before the commit: its callbacks then refresh the shared registry.
            token = import_view.set(Registry(list(self.changes.schema.all())))
            try:
                yield
            finally:
                import_view.reset(token)

    async def _see_uncommitted(self) -> None:
        """Inside ``changing()``, the next change sees this one before it commits."""
        if import_view.get() is not None:
            await self.changes.reload()
