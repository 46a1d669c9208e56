"""Collection create/update/delete/truncate/import: validation, DDL and ``_collections`` rows
in one transaction, the in-memory registry refreshed after commit."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import apsw
from pbk_sdk import events as ev
from pbk_sdk.errors import ApiError, FieldError
from pbk_sdk.events import CollectionErrorEvent, CollectionEvent, CollectionValidateEvent
from pbk_sdk.interfaces import App, FieldType

from . import ddl, view_query
from .collections import (
    Registry,
    SchemaBuilder,
    current_schema,
    import_view,
    insert_row,
    load_all,
    update_row,
)
from .failures import after_failure
from .fields import complete_field
from .reads import Context
from .records import Records
from .schema import Collection, Field
from .views import infer_fields

#: Each change's events: around the write (in the transaction), after the commit, after a failure.
CREATE_EVENTS = (ev.COLLECTION_CREATE, ev.COLLECTION_AFTER_CREATE_SUCCESS, ev.COLLECTION_AFTER_CREATE_ERROR)
UPDATE_EVENTS = (ev.COLLECTION_UPDATE, ev.COLLECTION_AFTER_UPDATE_SUCCESS, ev.COLLECTION_AFTER_UPDATE_ERROR)
DELETE_EVENTS = (ev.COLLECTION_DELETE, ev.COLLECTION_AFTER_DELETE_SUCCESS, ev.COLLECTION_AFTER_DELETE_ERROR)
#: ``sqlite_master``'s lookups on PostgreSQL: a table or view of that name in any case, an index.
PG_RELATION = (
    "SELECT 1 FROM pg_catalog.pg_class WHERE relnamespace = current_schema()::regnamespace "
    "AND relkind IN ('r', 'v', 'p', 'm') AND lower(relname) = lower(?)"
)
PG_INDEX = "SELECT 1 FROM pg_catalog.pg_indexes WHERE schemaname = current_schema() AND indexname = ?"


class SchemaChanges:
    def __init__(
        self,
        app: App,
        registry: Registry,
        builder: SchemaBuilder,
        field_types: Mapping[str, FieldType],
        records: Records,
    ) -> None:
        self.app = app
        self.db = app.db
        self.registry = registry
        self.builder = builder
        self.field_types = field_types
        self.records = records

    @property
    def schema(self) -> Registry:
        """The registry schema changes see: an import's own, uncommitted one while it runs."""
        return current_schema(self.registry)

    async def reload(self) -> None:
        self.schema.replace(await self.db.read(load_all))

    async def reload_committed(self) -> None:
        """After a commit: this worker sees the new schema, and every other one will before
        its next request."""
        await self.reload()
        self.app.cluster.changed()

    def _refresh_after_commit(self, name: str, event: CollectionEvent) -> None:
        async def refresh() -> None:
            await self.reload_committed()
            if self.app.events.has(name, event.collection):
                await self.app.events.trigger(name, event)

        self.db.after_commit(refresh)

    async def _validate(self, event: CollectionValidateEvent, failure: str) -> None:
        """``collection_validate``: handlers add to ``errors`` what PocketBase's checks, passed
        already, did not find; the default action refuses the change when there are any."""
        if not self.app.events.has(ev.COLLECTION_VALIDATE, event.collection):
            return

        async def verdict(e: CollectionValidateEvent) -> None:
            if e.errors:
                raise ApiError(400, failure, e.errors)

        await self.app.events.trigger(ev.COLLECTION_VALIDATE, event, verdict)

    async def _change(
        self, event: CollectionEvent, names: tuple[str, str, str], failure: str, write: Callable[[], Awaitable[Any]]
    ) -> None:
        """Run ``write`` in a transaction as the default action of ``names[0]``
        (``collection_create`` ...); ``names[1]`` follows the commit, ``names[2]`` a failure."""
        run, success, failed = names
        try:
            async with self.db.transaction():
                if self.app.events.has(run, event.collection):
                    done: list[bool] = []

                    async def default(_: CollectionEvent) -> None:
                        await write()
                        done.append(True)

                    await self.app.events.trigger(run, event, default)
                    if not done:  # a handler stopped the chain: nothing was written
                        raise ApiError(400, failure)
                else:
                    await write()
                self._refresh_after_commit(success, event)
        except Exception as error:
            await self._after_failure(failed, event, error)
            raise

    async def _after_failure(self, name: str, event: CollectionEvent, error: Exception) -> None:
        failed = CollectionErrorEvent(collection=event.collection, original=event.original, error=error)
        await after_failure(self.db, self.app.events, name, failed)

    def _schema_error(self, exc: Exception, failure: str, collection: Collection) -> ApiError:
        if collection.is_view:  # no fields could be read from the query, so "fields" is blank too
            return ApiError(400, failure, {
                "fields": FieldError("validation_required", "Cannot be blank."),
                "viewQuery": FieldError("validation_invalid_view_query", f"Invalid query - {view_query.sqlite_message(exc)}"),
            })
        return self._ddl_error(exc, failure, collection)

    def _infer_view_fields(self, conn: apsw.Connection, collection: Collection) -> None:
        inferred = infer_fields(conn, collection.name, collection.view_query, self.schema)
        collection.replace_fields([Field(complete_field(f.data, self.field_types)) for f in inferred])

    def _ddl_error(self, exc: Exception, failure: str, collection: Collection) -> ApiError:
        """Blame the index whose statement failed, or the fields."""
        failed_sql = getattr(exc, "pbk_statement", "")
        for position, index in enumerate(collection.indexes):
            if index == failed_sql:
                return ApiError(400, failure, {"indexes": {str(position): FieldError("validation_invalid_index_expression", "Invalid index expression.")}})
        return ApiError(400, failure, {"fields": FieldError("validation_invalid_value", f"Invalid schema: {exc}")})

    def _refuse_internal_table(self, conn: apsw.Connection, collection: Collection, failure: str) -> None:
        """A collection may not take the name of a table that is no collection (``_params``)."""
        found = conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type IN ('table', 'view') AND name = ? COLLATE NOCASE"
            if ddl.engine_of(conn) == "sqlite" else PG_RELATION,
            (collection.name,),
        ).fetchone()
        if found:
            raise ApiError(400, failure, {"name": FieldError(
                "validation_collection_name_invalid", "The name shouldn't match with an existing internal table."
            )})

    async def _apply_create(self, collection: Collection, failure: str) -> None:
        def create(conn: apsw.Connection) -> None:
            self._refuse_internal_table(conn, collection, failure)
            try:
                ddl.create(conn, collection, self.field_types)
            except (apsw.Error, ddl.NotOneStatement) as exc:
                raise self._schema_error(exc, failure, collection) from exc
            if collection.is_view:
                self._infer_view_fields(conn, collection)
            self._check_indexes(conn, collection, failure)
            insert_row(conn, collection)

        await self.db.write(create)

    def _check_indexes(self, conn: apsw.Connection, collection: Collection, failure: str) -> None:
        for position, index in enumerate(collection.indexes):
            name = ddl.index_name(index)
            found = name and conn.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = ?"
                if ddl.engine_of(conn) == "sqlite" else PG_INDEX,
                (name,),
            ).fetchone()
            if not found:
                raise ApiError(400, failure, {"indexes": {str(position): FieldError("validation_invalid_index_expression", "Invalid index expression.")}})

    async def create(self, payload: Mapping[str, Any], *, system: bool = False) -> Collection:
        """Validate and create a collection; ``system`` (a plugin's, never a client's) protects
        it from being deleted or renamed, as PocketBase's own system collections are."""
        failure = "Failed to create collection."
        collection = self.builder.build(payload, None, failure)
        collection.system = system
        await self._validate(CollectionValidateEvent(collection=collection), failure)
        await self._change(CollectionEvent(collection=collection), CREATE_EVENTS, failure,
                           lambda: self._apply_create(collection, failure))
        return collection

    async def update(self, existing: Collection, payload: Mapping[str, Any]) -> Collection:
        failure = "Failed to update collection."
        collection = self.builder.build(payload, existing, failure)
        await self._validate(CollectionValidateEvent(collection=collection, original=existing), failure)

        def change(conn: apsw.Connection) -> None:
            if collection.name.lower() != existing.name.lower():
                self._refuse_internal_table(conn, collection, failure)
            try:
                ddl.update(conn, existing, collection, self.field_types)
            except apsw.ConstraintError as exc:
                raise self._unique_index_error(exc, collection, failure) from exc
            except (apsw.Error, ddl.NotOneStatement) as exc:
                raise self._schema_error(exc, failure, collection) from exc
            if collection.is_view:
                self._infer_view_fields(conn, collection)
            else:
                self._check_indexes(conn, collection, failure)
            update_row(conn, collection)

        await self._change(CollectionEvent(collection=collection, original=existing), UPDATE_EVENTS, failure,
                           lambda: self.db.write(change))
        return collection

    def _unique_index_error(self, exc: apsw.ConstraintError, collection: Collection, failure: str) -> ApiError:
        errors = {
            column: FieldError("validation_not_unique", "Value must be unique.")
            for column in ddl.unique_columns(exc, collection) or ()
        }
        return ApiError(400, failure, {"indexes": errors} if errors else {})

    async def delete(self, collection: Collection) -> None:
        if collection.system:
            raise ApiError(400, "Failed to delete collection.", {"system": FieldError("validation_collection_system", "System collection cannot be deleted.")})
        referencing = sorted(
            {c.name for c, _ in self.schema.references_to(collection) if c.id != collection.id}
            | {c.name for c in self.schema.all() if c.is_view and _view_reads(c, collection)}
        )
        if referencing:
            raise ApiError(
                400,
                f"Failed to delete collection probably due to existing reference in {', '.join(referencing)}.",
            )

        def remove(conn: apsw.Connection) -> None:
            ddl.drop(conn, collection)
            conn.execute("DELETE FROM _collections WHERE id = ?", (collection.id,))

        await self._change(CollectionEvent(collection=collection), DELETE_EVENTS, "Failed to delete collection.",
                           lambda: self.db.write(remove))

    async def truncate(self, collection: Collection, ctx: Context) -> None:
        """Delete every record through the records service, so references and events hold."""
        if collection.is_view:
            raise ApiError(400, "Unsupported collection type.")
        async with self.db.transaction():
            rows = await self.db.read(lambda conn: conn.execute(f"SELECT id FROM {self.records.quote(collection.name)}").fetchall())
            visited: set[str] = set()
            for (record_id,) in rows:
                values = await self.records.get(collection, record_id)
                if values is not None:
                    await self.records.delete_values(collection, values, ctx, visited=visited)

    async def import_collections(self, items: object, delete_missing: bool) -> None:
        """Create or update every listed collection (and drop unlisted ones) in one transaction."""
        failure = "Failed to import collections."
        if not isinstance(items, list) or not items or not all(isinstance(i, Mapping) for i in items):
            raise ApiError(400, failure, {"collections": FieldError("validation_required", "Cannot be blank.")})
        token = import_view.set(Registry(list(self.schema.all())))
        try:
            async with self.db.transaction():
                for position, item in enumerate(items):
                    existing = self.schema.get(str(item.get("id") or "")) or self.schema.get(
                        str(item.get("name") or "")
                    )
                    try:
                        if existing is None:
                            await self.create(item)
                        else:
                            await self.update(existing, item)
                    except ApiError as error:
                        detail = error.data or {"code": "validation_invalid_value", "message": error.message}
                        raise ApiError(400, failure, {"collections": {str(position): detail}}) from error
                    await self.reload()  # later items may refer to this one (the import's view)
                if delete_missing:
                    wanted = {str(i.get("id") or "") for i in items} | {
                        str(i.get("name") or "").lower() for i in items
                    }
                    for collection in list(self.schema.all()):
                        if not (collection.system or collection.id in wanted or collection.name.lower() in wanted):
                            await self.delete(collection)
                            await self.reload()
        finally:
            import_view.reset(token)
        await self.reload_committed()  # now every request sees it

def _view_reads(view: Collection, collection: Collection) -> bool:
    return collection.name.lower() in {word.lower() for word in re.findall(r"\w+", view.view_query)}
