"""Schema, seed data and helpers shared by the filter tests (this module holds no tests).

The schema is PocketBase collection JSON with fixed ids, so the same collections can be
created on the real binary (differential test) and built locally as
:class:`~pbk_records.schema.Collection` objects over an SQLite file with PocketBase's column
types (compiler and property tests).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable, Mapping
from typing import Any

import apsw
from pbk_records.filter import RequestInfo, Sql, compile_filter
from pbk_records.schema import Collection, Field

AUTHORS, TAGS, POSTS, COMMENTS, PROFILES = (
    "pbc_authors0001",
    "pbc_tags0000001",
    "pbc_posts000001",
    "pbc_comments001",
    "pbc_profiles001",
)


def _f(name: str, type_: str, **options: Any) -> dict[str, Any]:
    return {"name": name, "type": type_, **options}


#: Collections as POST /api/collections takes them. Self relations (``authors.mentor``,
#: ``tags.parent``) are in ``SELF_RELATIONS``: the binary only accepts them once the
#: collection exists.
SCHEMA: list[dict[str, Any]] = [
    {
        "id": AUTHORS,
        "name": "authors",
        "type": "auth",
        "listRule": "",
        "viewRule": "",
        "passwordAuth": {"enabled": True, "identityFields": ["email"]},
        "fields": [
            _f("name", "text"),
            _f("age", "number"),
            _f("secret", "text", hidden=True),
        ],
    },
    {
        "id": TAGS,
        "name": "tags",
        "type": "base",
        "listRule": "",
        "fields": [_f("name", "text"), _f("weight", "number")],
    },
    {
        "id": POSTS,
        "name": "posts",
        "type": "base",
        "listRule": "",
        "fields": [
            _f("title", "text"),
            _f("body", "editor"),
            _f("views", "number"),
            _f("published", "bool"),
            _f("when", "date"),
            _f("tags", "select", values=["a", "b", "c", "d"], maxSelect=4),
            _f("category", "select", values=["news", "blog"], maxSelect=1),
            _f("author", "relation", collectionId=AUTHORS, maxSelect=1),
            _f("labels", "relation", collectionId=TAGS, maxSelect=5),
            _f("meta", "json"),
            _f("loc", "geoPoint"),
            _f("link", "url"),
            _f("files", "file", maxSelect=3, maxSize=1000),
            _f("created", "autodate", onCreate=True),
        ],
    },
    {
        "id": COMMENTS,
        "name": "comments",
        "type": "base",
        "listRule": "",
        "fields": [
            _f("message", "text"),
            _f("score", "number"),
            _f("post", "relation", collectionId=POSTS, maxSelect=1),
            _f("author", "relation", collectionId=AUTHORS, maxSelect=1),
            _f("likes", "relation", collectionId=AUTHORS, maxSelect=5),
        ],
    },
    {
        "id": PROFILES,
        "name": "profiles",
        "type": "base",
        "listRule": "",
        "fields": [_f("bio", "text"), _f("owner", "relation", collectionId=AUTHORS, maxSelect=1)],
        "indexes": ["CREATE UNIQUE INDEX `idx_profiles_owner` ON `profiles` (`owner`)"],
    },
    {
        # always empty: joining it many times costs nothing (the join-count limit)
        "id": "pbc_notes000001",
        "name": "notes",
        "type": "base",
        "listRule": "",
        "fields": [_f("x", "number")],
    },
]

SELF_RELATIONS: dict[str, list[dict[str, Any]]] = {
    "authors": [_f("mentor", "relation", collectionId=AUTHORS, maxSelect=1)],
    "tags": [_f("parent", "relation", collectionId=TAGS, maxSelect=1)],
}

A1, A2, A3, A4 = "author000000001", "author000000002", "author000000003", "author000000004"
T1, T2, T3, T4, T5 = (f"tag00000000000{i}" for i in range(1, 6))
P = [f"post0000000000{i}" for i in range(1, 10)]

#: Records in creation order (as the API takes them; ``mentor``/``parent`` are set by a
#: second pass, see ``SEED_UPDATES``).
SEED: list[tuple[str, dict[str, Any]]] = [
    (
        "authors",
        {
            "id": A1,
            "email": "ann@x.io",
            "emailVisibility": True,
            "name": "Ann",
            "age": 30,
            "secret": "s1",
        },
    ),
    (
        "authors",
        {
            "id": A2,
            "email": "bob@x.io",
            "emailVisibility": False,
            "name": "Bob",
            "age": 0,
            "verified": True,
        },
    ),
    (
        "authors",
        {
            "id": A3,
            "email": "cy@y.org",
            "emailVisibility": True,
            "name": "",
            "age": -2.5,
            "secret": "s3",
        },
    ),
    ("authors", {"id": A4, "email": "dee@y.org", "name": "Dée", "age": 41, "verified": True}),
    ("tags", {"id": T1, "name": "alpha", "weight": 1}),
    ("tags", {"id": T2, "name": "beta", "weight": 2}),
    ("tags", {"id": T3, "name": "Gamma_%", "weight": 3}),
    ("tags", {"id": T4, "name": "", "weight": 0}),
    ("tags", {"id": T5, "name": "ALPHA", "weight": -1}),
    (
        "posts",
        {
            "id": P[0],
            "title": "Hello World",
            "body": "<p>hi</p>",
            "views": 10,
            "published": True,
            "when": "2024-01-01 00:00:00.000Z",
            "tags": ["a", "b"],
            "category": "news",
            "author": A1,
            "labels": [T1, T2],
            "meta": {"k": "v", "n": 1, "arr": [1, 2], "o": {"x": "y"}},
            "loc": {"lon": 23.32, "lat": 42.69},
            "link": "https://example.com/a",
        },
    ),
    (
        "posts",
        {
            "id": P[1],
            "title": "second",
            "views": 0,
            "published": False,
            "tags": [],
            "author": A2,
            "labels": [T1],
            "meta": None,
        },
    ),
    (
        "posts",
        {
            "id": P[2],
            "title": "",
            "views": 5,
            "tags": ["c"],
            "category": "blog",
            "labels": [],
            "meta": {"k": ""},
        },
    ),
    (
        "posts",
        {
            "id": P[3],
            "title": "Ünïcode 50% off_x",
            "views": -3.5,
            "published": True,
            "when": "2025-06-15 12:30:00.000Z",
            "tags": ["a"],
            "author": A1,
            "labels": [T3],
            "meta": [1, "x"],
            "loc": {"lon": -0.12, "lat": 51.5},
        },
    ),
    (
        "posts",
        {
            "id": P[4],
            "title": 'it\'s "quoted" \\ back',
            "views": 100,
            "published": True,
            "when": "2024-02-29 23:59:59.999Z",
            "tags": ["a", "b", "c", "d"],
            "category": "blog",
            "author": A3,
            "labels": [T1, T3, T5],
            "meta": "plain",
            "loc": {"lon": 23.3, "lat": 42.7},
        },
    ),
    (
        "posts",
        {
            "id": P[5],
            "title": "ALPHA beta",
            "views": 7.25,
            "published": False,
            "when": "2023-12-31 23:00:00.000Z",
            "tags": ["d"],
            "category": "news",
            "author": A4,
            "labels": [T4],
            "meta": 42,
            "link": "http://b.org",
        },
    ),
    (
        "posts",
        {
            "id": P[6],
            "title": "10",
            "views": 10,
            "published": True,
            "tags": ["b"],
            "labels": [T2, T5],
            "meta": True,
        },
    ),
    (
        "posts",
        {
            "id": P[7],
            "title": "null",
            "views": 1,
            "when": "2024-01-01 10:00:00.000Z",
            "tags": ["a", "c"],
            "author": A2,
            "labels": [T2, T3],
            "meta": {"k": "v", "n": 2.5},
        },
    ),
    (
        "comments",
        {
            "id": "comm00000000001",
            "message": "nice",
            "score": 3,
            "post": P[0],
            "author": A2,
            "likes": [A1, A3],
        },
    ),
    (
        "comments",
        {
            "id": "comm00000000002",
            "message": "meh",
            "score": 1,
            "post": P[0],
            "author": A1,
            "likes": [],
        },
    ),
    (
        "comments",
        {"id": "comm00000000003", "message": "wow", "score": 5, "post": P[1], "likes": [A2]},
    ),
    (
        "comments",
        {
            "id": "comm00000000004",
            "message": "",
            "score": 0,
            "post": P[3],
            "author": A3,
            "likes": [A1],
        },
    ),
    (
        "comments",
        {
            "id": "comm00000000005",
            "message": "Nice!",
            "score": 4,
            "post": P[4],
            "author": A1,
            "likes": [A1, A2, A4],
        },
    ),
    (
        "comments",
        {"id": "comm00000000006", "message": "late", "score": -1, "post": P[4], "author": A4},
    ),
    ("profiles", {"id": "prof00000000001", "bio": "hi", "owner": A1}),
    ("profiles", {"id": "prof00000000002", "bio": "", "owner": A2}),
]

SEED_UPDATES: list[tuple[str, str, dict[str, Any]]] = [
    ("authors", A1, {"mentor": A2}),
    ("authors", A2, {"mentor": A4}),
    ("authors", A4, {"mentor": A4}),
    ("tags", T2, {"parent": T1}),
    ("tags", T3, {"parent": T2}),
    ("tags", T5, {"parent": T1}),
]

PASSWORD = "12345678"


# -- local collections and tables ---------------------------------------------------------


def _system_fields(collection_type: str) -> list[dict[str, Any]]:
    fields = [
        {
            "name": "id",
            "type": "text",
            "system": True,
            "primaryKey": True,
            "required": True,
            "min": 15,
            "max": 15,
            "pattern": "^[a-z0-9]+$",
            "autogeneratePattern": "[a-z0-9]{15}",
        },
    ]
    if collection_type == "auth":
        fields += [
            {
                "name": "password",
                "type": "password",
                "system": True,
                "hidden": True,
                "required": True,
            },
            {"name": "tokenKey", "type": "text", "system": True, "hidden": True, "required": True},
            {"name": "email", "type": "email", "system": True, "required": True},
            {"name": "emailVisibility", "type": "bool", "system": True},
            {"name": "verified", "type": "bool", "system": True},
        ]
    return fields


def build_collections(schema: Iterable[Mapping[str, Any]] = SCHEMA) -> dict[str, Collection]:
    """``Collection`` objects for the schema, with the system fields PocketBase adds."""
    out: dict[str, Collection] = {}
    for spec in schema:
        fields = _system_fields(spec["type"]) + copy.deepcopy(spec["fields"])
        fields += copy.deepcopy(SELF_RELATIONS.get(spec["name"], []))
        rules = {
            k: spec.get(k)
            for k in ("listRule", "viewRule", "createRule", "updateRule", "deleteRule")
        }
        out[spec["name"]] = Collection(
            id=spec["id"],
            name=spec["name"],
            type=spec["type"],
            fields=[Field(f) for f in fields],
            indexes=spec.get("indexes", []),
            rules=rules,
        )
    return out


def make_lookup(collections: Mapping[str, Collection]):
    by_key: dict[str, Collection] = {}
    for c in collections.values():
        by_key[c.id] = c
        by_key[c.name.lower()] = c

    def lookup(name_or_id: str) -> Collection | None:
        return by_key.get(name_or_id) or by_key.get(name_or_id.lower())

    return lookup


def column_type(field: Field) -> str:
    t = field.type
    if field.name == "id":
        return "TEXT PRIMARY KEY DEFAULT ('r'||lower(hex(randomblob(7)))) NOT NULL"
    if t == "number":
        return "NUMERIC DEFAULT 0 NOT NULL"
    if t == "bool":
        return "BOOLEAN DEFAULT FALSE NOT NULL"
    if t == "json":
        return "JSON DEFAULT NULL"
    if t == "geoPoint":
        return 'JSON DEFAULT \'{"lon":0,"lat":0}\' NOT NULL'
    if t in ("select", "relation", "file") and int(field.get("maxSelect") or 0) > 1:
        return "JSON DEFAULT '[]' NOT NULL"
    return "TEXT DEFAULT '' NOT NULL"


def ddl(collection: Collection) -> str:
    cols = ", ".join(f'"{f.name}" {column_type(f)}' for f in collection.fields)
    return f'CREATE TABLE "{collection.name}" ({cols})'


def storage_value(field: Field, value: Any) -> Any:
    """A value as PocketBase stores it."""
    t = field.type
    if t == "bool":
        return 1 if value else 0
    if t == "json":
        return (
            None
            if value is None
            else json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
        )
    if t == "geoPoint":
        return json.dumps(
            {"lon": value.get("lon", 0), "lat": value.get("lat", 0)}, separators=(",", ":")
        )
    if t in ("select", "relation", "file") and int(field.get("maxSelect") or 0) > 1:
        return json.dumps(list(value or []), separators=(",", ":"))
    if t == "number":
        return value if value is not None else 0
    return "" if value is None else value


def create_database(
    path: str = ":memory:", collections: Mapping[str, Collection] | None = None
) -> apsw.Connection:
    """An SQLite database with one table per collection, seeded with ``SEED``."""
    collections = collections or build_collections()
    conn = apsw.Connection(path)
    for c in collections.values():
        conn.execute(ddl(c))
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for name, record in SEED:
        rows[(name, record["id"])] = dict(record)
    for name, rid, patch in SEED_UPDATES:
        rows[(name, rid)].update(patch)
    for (name, _), record in rows.items():
        c = collections[name]
        values: dict[str, Any] = {}
        for f in c.fields:
            if f.name in record:
                values[f.name] = storage_value(f, record[f.name])
            elif f.name in ("password", "tokenKey"):
                values[f.name] = "x" * 30
            elif f.type == "autodate":
                values[f.name] = "2026-01-01 00:00:00.000Z"
        cols = ", ".join(f'"{k}"' for k in values)
        marks = ", ".join("?" for _ in values)
        conn.execute(f'INSERT INTO "{name}" ({cols}) VALUES ({marks})', list(values.values()))
    return conn


def select_ids(
    conn: apsw.Connection, collection: Collection, sql: Sql, order: str = "main.rowid"
) -> list[str]:
    query = f'SELECT main.id FROM "{collection.name}" AS main WHERE {sql.sql} ORDER BY {order}'
    return [row[0] for row in conn.execute(query, sql.params)]


SUPERUSER = RequestInfo(is_superuser=True)
GUEST = RequestInfo()


def auth_of(conn: apsw.Connection, collection: Collection, record_id: str) -> dict[str, Any]:
    """The ``RequestInfo.auth`` dict of a stored auth record."""
    cur = conn.execute(f'SELECT * FROM "{collection.name}" WHERE id = ?', (record_id,))
    names = [d[0] for d in cur.getdescription()]
    row = dict(zip(names, cur.fetchone()))
    row["collectionId"] = collection.id
    row["collectionName"] = collection.name
    for key in ("verified", "emailVisibility"):
        row[key] = bool(row.get(key))
    return row


class Env:
    """A seeded database and its collections, with a one-call ``ids(filter)``."""

    def __init__(self, path: str = ":memory:") -> None:
        self.collections = build_collections()
        self.lookup = make_lookup(self.collections)
        self.conn = create_database(path, self.collections)

    def compile(
        self, collection: str, expression: str, request: RequestInfo | None = SUPERUSER, **kw: Any
    ) -> Sql:
        return compile_filter(expression, self.collections[collection], self.lookup, request, **kw)

    def ids(
        self, collection: str, expression: str, request: RequestInfo | None = SUPERUSER, **kw: Any
    ) -> list[str]:
        sql = self.compile(collection, expression, request, **kw)
        return select_ids(self.conn, self.collections[collection], sql)

    def auth(self, record_id: str, collection: str = "authors") -> dict[str, Any]:
        return auth_of(self.conn, self.collections[collection], record_id)
