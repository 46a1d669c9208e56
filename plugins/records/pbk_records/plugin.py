"""Collections and records over REST, and PocketBase's system schema."""

from __future__ import annotations

import copy
import json
from importlib.resources import files
from typing import Any

import apsw
from pbk_sdk import Migration, PluginInfo, Route, hookimpl, routes
from pbk_sdk import events as ev
from pbk_sdk.errors import ApiError
from pbk_sdk.interfaces import COLLECTIONS, FIELD_TYPE, App, FieldType
from pbk_sdk.picker import FieldsMiddleware
from pbk_sdk.pocketbase import CREATE_PARAMS_TABLE
from pbk_sdk.request_events import evented
from pbk_sdk.state import StateKey

from . import ddl
from .batch import DEFAULTS as BATCH_DEFAULTS
from .batch import Batch
from .collections import Registry, SchemaBuilder, insert_row, new_secret, now
from .editor import CollectionEditor
from .fields import BUILTIN_FIELD_TYPES, complete_field
from .filter import CollectionLookup, RequestInfo, compile_filter
from .records import Records
from .resources import (
    CollectionImport,
    CollectionItem,
    CollectionList,
    CollectionScaffolds,
    CollectionTruncate,
    RecordItem,
    RecordList,
)
from .schema import RULES, Collection, option_keys
from .schema_changes import SchemaChanges
from .store import SqliteRecordStore
from .system_collections import create_system_collections
from .table_filter import TableFilterCompiler

PLUGIN = PluginInfo(name="records", description="Collections, records and the filter language.")

#: PocketBase 0.40.6's system migrations. pbk's schema equals their combined result, so the
#: first one creates it and the rest are recorded as applied (PocketBase then sees a data dir
#: it can open). ``1640988000_aux_init.go`` (the logs table) belongs to whoever owns logs.
POCKETBASE_INIT = "1640988000_init.go"
POCKETBASE_LATER_MIGRATIONS = (
    "1717233556_v0.23_migrate.go",
    "1717233557_v0.23_migrate2.go",
    "1717233558_v0.23_migrate3.go",
    "1717233559_v0.23_migrate4.go",
    "1763020353_update_default_auth_alert_templates.go",
    "1778828400_normalize_indexes.go",
)
CREATE_COLLECTIONS_TABLE = """CREATE TABLE `_collections` (
\t\t\t\t`id`         TEXT PRIMARY KEY DEFAULT ('r'||lower(hex(randomblob(7)))) NOT NULL,
\t\t\t\t`system`     BOOLEAN DEFAULT FALSE NOT NULL,
\t\t\t\t`type`       TEXT DEFAULT "base" NOT NULL,
\t\t\t\t`name`       TEXT UNIQUE NOT NULL,
\t\t\t\t`fields`     JSON DEFAULT "[]" NOT NULL,
\t\t\t\t`indexes`    JSON DEFAULT "[]" NOT NULL,
\t\t\t\t`listRule`   TEXT DEFAULT NULL,
\t\t\t\t`viewRule`   TEXT DEFAULT NULL,
\t\t\t\t`createRule` TEXT DEFAULT NULL,
\t\t\t\t`updateRule` TEXT DEFAULT NULL,
\t\t\t\t`deleteRule` TEXT DEFAULT NULL,
\t\t\t\t`options`    JSON DEFAULT "{}" NOT NULL,
\t\t\t\t`created`    TEXT DEFAULT (strftime('%Y-%m-%d %H:%M:%fZ')) NOT NULL,
\t\t\t\t`updated`    TEXT DEFAULT (strftime('%Y-%m-%d %H:%M:%fZ')) NOT NULL
\t\t\t)"""



def _data(name: str) -> Any:
    return json.loads(files("pbk_records").joinpath(name).read_text())


def scaffolds() -> dict[str, Collection]:
    """Empty collections of each type, as ``GET /api/collections/meta/scaffolds`` shows them."""
    out = {}
    for kind, data in _data("pocketbase_scaffolds.json").items():
        row = {
            "id": "",
            "name": "",
            "type": kind,
            "system": False,
            "fields": json.dumps(data["fields"]),
            "indexes": "[]",
            **{rule: data.get(rule) for rule in RULES},
            "options": json.dumps({k: data[k] for k in option_keys(kind) if k in data}),
            "created": "",
            "updated": "",
        }
        out[kind] = Collection.from_row(row)
    return out


def create_pocketbase_schema(conn: apsw.Connection) -> None:
    """``_collections``, ``_params`` and PocketBase 0.40's system collections, fresh secrets."""
    if ddl.engine_of(conn) == "sqlite":
        conn.execute(CREATE_COLLECTIONS_TABLE)
        conn.execute("CREATE INDEX idx__collections_type on `_collections` (`type`)")
        conn.execute(CREATE_PARAMS_TABLE)
    else:
        conn.execute(PG_COLLECTIONS_TABLE)
        conn.execute('CREATE INDEX "idx__collections_type" ON "_collections" ("type")')
        conn.execute(PG_PARAMS_TABLE)
    stamp = now()
    for data in _data("pocketbase_system_collections.json"):
        options = copy.deepcopy(data["options"])
        for value in options.values():
            if isinstance(value, dict) and "secret" in value:
                value["secret"] = new_secret()
        collection = Collection.from_row(
            {
                **data,
                "fields": json.dumps(data["fields"]),
                "indexes": json.dumps(data["indexes"]),
                "options": json.dumps(options),
                "created": stamp,
                "updated": stamp,
            }
        )
        ddl.create(conn, collection, BUILTIN_FIELD_TYPES)
        insert_row(conn, collection)


def _already_included(conn: apsw.Connection) -> None:
    """PocketBase's upgrade migrations change older data; a fresh schema needs none of them."""


class RecordsPlugin:
    """The objects one app's records plugin works with."""

    def __init__(self, app: App) -> None:
        self.field_types: dict[str, FieldType] = dict(app.services.providers(FIELD_TYPE))
        self.registry = Registry()
        self.scaffolds = scaffolds()
        self.records = Records(app, self.registry, self.field_types)
        self.builder = SchemaBuilder(
            self.registry, self.field_types, complete_field, self.scaffolds, self.rule_problem
        )
        self.changes = SchemaChanges(app, self.registry, self.builder, self.field_types, self.records)

    def rule_problem(self, expression: str, collection: Collection) -> str | None:
        """Why a rule does not compile for this collection, or None."""
        probe = RequestInfo(auth=None, body={}, query={}, headers={}, method="GET", context="default", is_superuser=False)
        try:
            compile_filter(expression, collection, _with_self(self.builder.registry, collection), probe, mode="rule", table_alias="main")
        except ApiError as error:
            return error.message
        return None


def _with_self(registry: Registry, collection: Collection) -> CollectionLookup:
    """A schema lookup that also knows the collection being created or changed."""

    def lookup(id_or_name: str) -> Collection | None:
        if id_or_name in (collection.id, collection.name) or id_or_name.lower() == collection.name.lower():
            return collection
        return registry.get(id_or_name)

    return lookup


RECORDS: StateKey[RecordsPlugin] = StateKey("records", RecordsPlugin)


@hookimpl
def pbk_register_field_types(app: App) -> dict[str, FieldType]:
    return dict(BUILTIN_FIELD_TYPES)


@hookimpl
def pbk_register_table_filters(app: App) -> dict[str, Any]:
    return {"records": TableFilterCompiler}


@hookimpl
def pbk_register_record_stores(app: App) -> dict[str, Any]:
    def sqlite(app: App) -> SqliteRecordStore:
        plugin = app.state[RECORDS]
        return SqliteRecordStore(plugin.registry, plugin.records)

    return {"sqlite": sqlite}


@hookimpl
def pbk_register_migrations(app: App) -> list[Migration]:
    return [
        Migration(POCKETBASE_INIT, create_pocketbase_schema),
        *(Migration(name, _already_included) for name in POCKETBASE_LATER_MIGRATIONS),
    ]


@hookimpl
def pbk_register_routes(app: App) -> list[Route]:
    plugin = app.state[RECORDS]
    shared = (app, plugin.registry, plugin.records)
    collections = (plugin.registry, plugin.changes, plugin.scaffolds)
    return [
        Route(routes.RECORDS, RecordList(*shared)),
        Route(routes.RECORD, RecordItem(*shared)),
        Route(routes.COLLECTIONS, evented(app, CollectionList(*collections), {
            "on_get": ev.COLLECTIONS_LIST_REQUEST, "on_post": ev.COLLECTION_CREATE_REQUEST})),
        Route(routes.COLLECTION, evented(app, CollectionItem(*collections), {
            "on_get": ev.COLLECTION_VIEW_REQUEST, "on_patch": ev.COLLECTION_UPDATE_REQUEST,
            "on_delete": ev.COLLECTION_DELETE_REQUEST})),
        Route(routes.COLLECTION + "/truncate", CollectionTruncate(*collections)),
        Route(routes.COLLECTIONS + "/import", evented(app, CollectionImport(*collections),
                                                      {"on_put": ev.COLLECTIONS_IMPORT_REQUEST})),
        Route(routes.COLLECTIONS + "/meta/scaffolds", CollectionScaffolds(*collections)),
        Route(routes.BATCH, evented(app, Batch(*shared), {"on_post": ev.BATCH_REQUEST})),
    ]


@hookimpl
def pbk_declare_settings(app: App) -> dict[str, Any]:
    return {"batch": dict(BATCH_DEFAULTS)}


@hookimpl
def pbk_register_middleware(app: App) -> list[Any]:
    return [FieldsMiddleware()]


@hookimpl
async def pbk_startup(app: App) -> None:
    plugin = app.state[RECORDS]
    app.state[COLLECTIONS] = CollectionEditor(plugin.changes)
    await plugin.changes.reload()
    if app.cluster.worker == 0:  # the others start once worker 0 serves: it ran them already
        await create_system_collections(app, plugin.changes)
    app.cluster.on_sync(plugin.changes.reload)
