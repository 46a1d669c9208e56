"""HTTP resources: ``/api/collections`` and ``/api/collections/{collection}/records``."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from pbk_sdk import events as ev
from pbk_sdk.auth import RequestAuth, request_auth, require_superuser
from pbk_sdk.body import Body, read_body
from pbk_sdk.errors import ApiError
from pbk_sdk.events import RecordRequestEvent
from pbk_sdk.interfaces import App

from .collections import Registry
from .filter import RequestInfo, compile_filter, compile_sort
from .reads import Context, Page
from .records import Records
from .schema import Collection, Field
from .schema_changes import SchemaChanges

BAD_BODY = "Something went wrong while processing your request."
#: PocketBase's 404 for an unknown collection: reads and deletes say the first, creates and
#: updates (whose body-limit middleware looks the collection up first) the second.
MISSING_COLLECTION = "Missing collection context."
MISSING_WRITE_COLLECTION = "Missing or invalid collection context."


class _SnakeCaseHeaders(Mapping[str, str]):
    """The request's headers under lower snake_case names (``@request.headers.x_token``),
    worked out on first use: most requests never read them."""

    __slots__ = ("_headers", "_req")

    def __init__(self, req: Any) -> None:
        self._req = req
        self._headers: dict[str, str] | None = None

    def _all(self) -> dict[str, str]:
        if self._headers is None:
            self._headers = {name.lower().replace("-", "_"): value for name, value in self._req.headers.items()}
        return self._headers

    def __getitem__(self, name: str) -> str:
        return self._all()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._all())

    def __len__(self) -> int:
        return len(self._all())


def request_info(req: Any, auth: RequestAuth | None, context: str = "default") -> RequestInfo:
    """What ``@request.*`` sees for this request."""
    record = None
    if auth is not None:
        record = {**auth.record, "collectionId": auth.collection_id, "collectionName": auth.collection_name}
    headers = _SnakeCaseHeaders(req)
    return RequestInfo(
        auth=record,
        body={},
        query=last_values(req.params),
        headers=headers,
        method=req.method,
        context=context,
        is_superuser=auth is not None and auth.is_superuser,
    )


def last_values(params: Mapping[str, Any]) -> dict[str, str]:
    """Query parameters as ``@request.query`` reads them: the last value of a repeated one."""
    if not params:
        return {}
    return {key: value if isinstance(value, str) else value[-1] for key, value in params.items()}


def request_context(req: Any) -> Context:
    auth = request_auth(req)
    raw_expand = req.get_param("expand")
    expand = [part.strip() for part in raw_expand.split(",") if part.strip()] if raw_expand else []
    return Context(auth=auth, info=request_info(req, auth), expand=expand)


class RecordsResources:
    """Shared parts of the two records resources."""

    def __init__(self, app: App, registry: Registry, records: Records) -> None:
        self.app = app
        self.registry = registry
        self.records = records

    def collection(self, id_or_name: str, missing: str = MISSING_COLLECTION) -> Collection:
        collection = self.registry.get(id_or_name)
        if collection is None:
            raise ApiError(404, missing)
        return collection

    async def run(self, name: str, event: RecordRequestEvent, action: Any) -> Any:
        if not self.app.events.has(name, event.collection):  # no chain: its default action alone
            return await action(event)

        async def default(e: RecordRequestEvent) -> None:
            e.result = await action(e)

        await self.app.events.trigger(name, event, default)
        return event.result


class RecordList(RecordsResources):
    """``GET`` (list) and ``POST`` (create) on ``/api/collections/{collection}/records``."""

    async def on_get(self, req: Any, resp: Any, collection: str) -> None:
        coll = self.collection(collection)
        ctx = request_context(req)
        query = last_values(req.params)
        event = RecordRequestEvent(request=req, response=resp, collection=coll)
        resp.media = await self.run(
            ev.RECORDS_LIST_REQUEST, event, lambda e: self.records.list(e.collection, query, ctx)
        )

    async def on_post(self, req: Any, resp: Any, collection: str) -> None:
        coll = self.collection(collection, MISSING_WRITE_COLLECTION)
        ctx = request_context(req)
        body = await read_body(req, bad_json=BAD_BODY)
        try:
            event = RecordRequestEvent(request=req, response=resp, collection=coll, body=body.data)

            async def create(e: RecordRequestEvent) -> Any:
                values = await self.records.create(e.collection, Body(e.body, body.files), ctx)
                [item] = await self.records.present(e.collection, [values], ctx)
                return item

            resp.media = await self.run(ev.RECORD_CREATE_REQUEST, event, create)
        finally:
            body.close()


class RecordItem(RecordsResources):
    """``GET``/``PATCH``/``DELETE`` on ``/api/collections/{collection}/records/{record_id}``."""

    async def on_get(self, req: Any, resp: Any, collection: str, record_id: str) -> None:
        coll = self.collection(collection)
        ctx = request_context(req)
        event = RecordRequestEvent(request=req, response=resp, collection=coll, record_id=record_id)
        resp.media = await self.run(
            ev.RECORD_VIEW_REQUEST, event, lambda e: self.records.view(e.collection, e.record_id, ctx)
        )

    async def on_patch(self, req: Any, resp: Any, collection: str, record_id: str) -> None:
        coll = self.collection(collection, MISSING_WRITE_COLLECTION)
        ctx = request_context(req)
        body = await read_body(req, bad_json=BAD_BODY)
        try:
            event = RecordRequestEvent(
                request=req, response=resp, collection=coll, record_id=record_id, body=body.data
            )

            async def update(e: RecordRequestEvent) -> Any:
                values = await self.records.update(e.collection, e.record_id, Body(e.body, body.files), ctx)
                [item] = await self.records.present(e.collection, [values], ctx)
                return item

            resp.media = await self.run(ev.RECORD_UPDATE_REQUEST, event, update)
        finally:
            body.close()

    async def on_delete(self, req: Any, resp: Any, collection: str, record_id: str) -> None:
        coll = self.collection(collection)
        ctx = request_context(req)
        event = RecordRequestEvent(request=req, response=resp, collection=coll, record_id=record_id)

        async def delete(e: RecordRequestEvent) -> bool:
            await self.records.delete(e.collection, e.record_id, ctx)
            return True

        await self.run(ev.RECORD_DELETE_REQUEST, event, delete)
        resp.status = 204


# --------------------------------------------------------------------------- collections API

COLLECTIONS_TABLE = Collection(
    id="_collections",
    name="_collections",
    fields=[
        Field({"name": "id", "type": "text"}),
        Field({"name": "created", "type": "text"}),
        Field({"name": "updated", "type": "text"}),
        Field({"name": "name", "type": "text"}),
        Field({"name": "system", "type": "bool"}),
        Field({"name": "type", "type": "text"}),
    ],
)


class CollectionsResources:
    def __init__(self, registry: Registry, changes: SchemaChanges, scaffolds: dict[str, Collection]) -> None:
        self.registry = registry
        self.changes = changes
        self.scaffolds = scaffolds

    def collection(self, id_or_name: str) -> Collection:
        collection = self.registry.get(id_or_name)
        if collection is None:
            raise ApiError(404)
        return collection


class CollectionList(CollectionsResources):
    """``GET``/``POST /api/collections`` (superusers only)."""

    async def on_get(self, req: Any, resp: Any) -> None:
        auth = require_superuser(req)
        info = request_info(req, auth)
        page = Page.parse({key: req.get_param(key) or "" for key in ("page", "perPage", "skipTotal")})
        where, params = "", []
        raw_filter = req.get_param("filter") or ""
        if raw_filter.strip():
            compiled = compile_filter(raw_filter, COLLECTIONS_TABLE, lambda _: None, info, mode="filter", table_alias="main",
                                      dialect=self.changes.records.dialect)
            where, params = f" WHERE {compiled.sql}", list(compiled.params)
        order, order_params = " ORDER BY main.rowid", []
        raw_sort = req.get_param("sort") or ""
        if raw_sort.strip():
            sort = compile_sort(raw_sort, COLLECTIONS_TABLE, lambda _: None, info, dialect=self.changes.records.dialect)
            order, order_params = f" ORDER BY {sort.sql}", list(sort.params)

        def run(conn: Any) -> tuple[int, list[str]]:
            total = -1 if page.skip_total else conn.execute(f"SELECT COUNT(*) FROM _collections AS main{where}", params).get
            ids = [row[0] for row in conn.execute(
                f"SELECT main.id FROM _collections AS main{where}{order} LIMIT ? OFFSET ?",
                (*params, *order_params, page.size, page.offset),
            )]
            return total, ids

        try:
            total, ids = await self.changes.db.read(run)
        except ApiError:
            raise
        except Exception as exc:
            raise ApiError(400) from exc
        items = [c.to_json() for c in (self.registry.get(i) for i in ids) if c is not None]
        resp.media = page.envelope(items, total)

    async def on_post(self, req: Any, resp: Any) -> None:
        require_superuser(req)
        body = await read_body(req, bad_json="An error occurred while loading the submitted data.")
        collection = await self.changes.create(body.data)
        resp.media = collection.to_json()


class CollectionItem(CollectionsResources):
    """``GET``/``PATCH``/``DELETE /api/collections/{collection}``."""

    async def on_get(self, req: Any, resp: Any, collection: str) -> None:
        require_superuser(req)
        resp.media = self.collection(collection).to_json()

    async def on_patch(self, req: Any, resp: Any, collection: str) -> None:
        require_superuser(req)
        existing = self.collection(collection)
        body = await read_body(req, bad_json="An error occurred while loading the submitted data.")
        updated = await self.changes.update(existing, body.data)
        resp.media = updated.to_json()

    async def on_delete(self, req: Any, resp: Any, collection: str) -> None:
        require_superuser(req)
        await self.changes.delete(self.collection(collection))
        resp.status = 204


class CollectionTruncate(CollectionsResources):
    """``DELETE /api/collections/{collection}/truncate``."""

    async def on_delete(self, req: Any, resp: Any, collection: str) -> None:
        require_superuser(req)
        await self.changes.truncate(self.collection(collection), request_context(req))
        resp.status = 204


class CollectionImport(CollectionsResources):
    """``PUT /api/collections/import`` ``{collections, deleteMissing}``."""

    async def on_put(self, req: Any, resp: Any) -> None:
        require_superuser(req)
        body = await read_body(req, bad_json="An error occurred while loading the submitted data.")
        await self.changes.import_collections(body.data.get("collections"), bool(body.data.get("deleteMissing")))
        resp.status = 204


class CollectionScaffolds(CollectionsResources):
    """``GET /api/collections/meta/scaffolds``: empty collections of each type."""

    async def on_get(self, req: Any, resp: Any) -> None:
        require_superuser(req)
        out = {}
        for kind, scaffold in self.scaffolds.items():
            data = scaffold.to_json()
            data.update(id="", name="", created="", updated="")
            out[kind] = data
        resp.media = out
