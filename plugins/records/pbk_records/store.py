"""The ``record_store`` service: records for other plugins, through the same write path."""

from __future__ import annotations

import builtins
from collections.abc import Mapping, Sequence
from typing import Any

from pbk_sdk.auth import GUEST, SUPERUSERS, RequestAuth
from pbk_sdk.body import Body, UploadedFile
from pbk_sdk.errors import ApiError

from .collections import Registry, current_schema
from .filter import Mode, RequestInfo, compile_filter
from .reads import Context, _rows
from .records import Records
from .schema import Collection

#: Writes made by the system itself: no rules, hidden fields writable.
SYSTEM = RequestAuth(record={}, collection_id="", collection_name=SUPERUSERS)


def context_for(
    auth: RequestAuth | None,
    *,
    context: str = "default",
    expand: Sequence[str] = (),
    query: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Context:
    record = None
    if auth is GUEST:
        auth = None
    if auth is not None and auth is not SYSTEM:
        record = {**auth.record, "collectionId": auth.collection_id, "collectionName": auth.collection_name}
    info = RequestInfo(
        auth=record,
        body={},
        query=dict(query or {}),
        headers=dict(headers or {}),
        method="",
        context=context,
        is_superuser=auth is not None and auth.is_superuser,
    )
    return Context(auth=auth, info=info, expand=list(expand))


class SqliteRecordStore:
    """``pbk_sdk.interfaces.RecordStore`` over the records service (see its docstrings)."""

    def __init__(self, registry: Registry, records: Records) -> None:
        self._registry = registry
        self.records = records

    @property
    def registry(self) -> Registry:
        """The schema, as a migration or import this task runs in has changed it."""
        return current_schema(self._registry)

    def collection(self, id_or_name: str) -> Collection | None:
        return self.registry.get(id_or_name)

    async def get(self, collection: Collection, record_id: str) -> dict[str, Any] | None:
        return await self.records.get(collection, record_id)

    async def find(self, collection: Collection, field: str, value: Any) -> dict[str, Any] | None:
        if collection.field(field) is None:
            raise ValueError(f"{collection.name} has no field {field!r}")
        if self._holds_nul(value):
            return None
        sql = f"SELECT * FROM {self.records.quote(collection.name)} WHERE {self.records.quote(field)} = ? LIMIT 1"
        rows = await self.records.db.read(lambda conn: _rows(conn.execute(sql, (value,))))
        return self.records.values_from_row(collection, rows[0]) if rows else None

    async def list(
        self,
        collection: Collection,
        *,
        filter: str = "",
        sort: str = "",
        limit: int | None = None,
        offset: int = 0,
        params: Mapping[str, Any] | None = None,
        auth: RequestAuth | None = None,
    ) -> builtins.list[dict[str, Any]]:
        ctx = context_for(auth or SYSTEM)
        return await self.records.select(
            collection, ctx, filter=filter, sort=sort, limit=limit, offset=offset, params=params
        )

    async def find_all(
        self, collection: Collection, where: Mapping[str, Any], *, sort: str = ""
    ) -> builtins.list[dict[str, Any]]:
        for name in where:
            if collection.field(name) is None:
                raise ValueError(f"{collection.name} has no field {name!r}")
        if any(self._holds_nul(value) for value in where.values()):
            return []
        conditions = " && ".join(f"{name} = {{:{name}}}" for name in where)
        return await self.list(collection, filter=conditions, sort=sort, params=where)

    async def count(
        self,
        collection: Collection,
        *,
        filter: str = "",
        params: Mapping[str, Any] | None = None,
        auth: RequestAuth | None = None,
    ) -> int:
        return await self.records.count(collection, context_for(auth or SYSTEM), filter=filter, params=params)

    def _holds_nul(self, value: Any) -> bool:
        """A text with NUL, which no PostgreSQL text equals (and PostgreSQL refuses to bind)."""
        return self.records.engine != "sqlite" and isinstance(value, str) and "\x00" in value

    def _write_data(self, collection: Collection, data: Mapping[str, Any], auth: RequestAuth | None) -> dict[str, Any]:
        body = dict(data)
        if auth is None and collection.is_auth and "password" in body:
            body.setdefault("passwordConfirm", body["password"])
        return body

    async def create(
        self, collection: Collection, data: Mapping[str, Any], *, auth: RequestAuth | None = None,
        context: str = "default",
    ) -> dict[str, Any]:
        ctx = context_for(auth or SYSTEM, context=context)
        values = self._write_data(collection, data, auth)
        files = {name: [values.pop(name)] for name, value in list(values.items()) if isinstance(value, UploadedFile)}
        return await self.records.create(collection, Body(values, files), ctx)

    async def update(
        self, collection: Collection, record_id: str, data: Mapping[str, Any], *, auth: RequestAuth | None = None
    ) -> dict[str, Any]:
        ctx = context_for(auth or SYSTEM)
        return await self.records.update(collection, record_id, Body(self._write_data(collection, data, auth)), ctx)

    async def delete(self, collection: Collection, record_id: str, *, auth: RequestAuth | None = None) -> None:
        await self.records.delete(collection, record_id, context_for(auth or SYSTEM))

    async def present(
        self, collection: Collection, values: Mapping[str, Any], auth: RequestAuth | None, *, expand: Sequence[str] = ()
    ) -> dict[str, Any]:
        [item] = await self.records.present(collection, [dict(values)], context_for(auth, expand=expand))
        return item

    async def matches_rule(
        self,
        collection: Collection,
        record_id: str,
        rule: str,
        auth: RequestAuth | None,
        *,
        context: str = "default",
        values: Mapping[str, Any] | None = None,
        query: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        trusted: bool = True,
    ) -> bool:
        ctx = context_for(auth, context=context, query=query, headers=headers)
        # An untrusted expression (a client's filter) is compiled as ?filter is: no hidden
        # fields, no @collection/@request for non-superusers, the related collections' rules.
        mode: Mode = "rule" if trusted else "filter"
        try:
            compiled = (
                self.records.compile_rule(rule, collection, ctx.info)
                if trusted
                else compile_filter(
                    rule, collection, self.registry, ctx.info, mode=mode, table_alias="main", dialect=self.records.dialect
                )
            )
        except ApiError:
            return False
        if values is None:
            return await self.records._matches(collection, record_id, (compiled.sql, list(compiled.params)))
        # A record that is no longer stored (a delete) is checked as a one-row derived table.
        row = self.records._db_row(collection, values)
        derived = ", ".join(f"? AS {self.records.quote(column)}" for column in row)
        sql = f"SELECT 1 FROM (SELECT {derived}) AS main WHERE ({compiled.sql})"
        params = (*row.values(), *compiled.params)
        return await self.records._read(lambda conn: conn.execute(sql, params).fetchone() is not None)
