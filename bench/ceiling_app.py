"""The ceiling: what bare Python does for the benchmark's requests.

A Falcon (ASGI) app on uvicorn (uvloop, httptools), APSW and orjson, served with as many worker
processes as pbk, on a copy of a seeded ``pb_data``. For each request it runs only the SQL the
request needs and encodes the JSON: no auth (a token's claims are read, never verified), no
rules, no validation, no events, no request log. Where pbk lands between this and PocketBase
says how much of pbk's cost is pbk.

    CEILING_DATA_DIR=pb_data uvicorn bench.ceiling_app:app --workers 2 --loop uvloop --http httptools

It answers only the shapes the harness sends (the list filters and sorts below); anything else
is a 400, so a harness change it does not know fails the pre-flight check instead of measuring
nonsense.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import random
import string
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import apsw
import falcon
import falcon.asgi
import orjson

DATA_DIR = Path(os.environ.get("CEILING_DATA_DIR", "pb_data"))
ALPHABET = string.ascii_lowercase + string.digits
HIDDEN = {"password", "tokenKey"}
#: the filters and sorts the harness sends, as SQL (`~` is PocketBase's LIKE '%...%')
FILTERS = {"": "", "published = true && title ~ 'lorem'": "published = 1 AND title LIKE '%lorem%'",
           "views >= 9900 && title ~ 'lorem'": "views >= 9900 AND title LIKE '%lorem%'"}
SORTS = {"": "rowid", "-views,title": "views DESC, title", "-created": "created DESC"}
#: collections whose list rule is "author = @request.auth.id"
OWNER_FIELD = {"notes": "author"}

_connection: apsw.Connection | None = None
_tables: dict[str, dict[str, Any]] = {}


def db() -> apsw.Connection:
    global _connection
    if _connection is None:
        _connection = apsw.Connection(str(DATA_DIR / "data.db"))
        _connection.set_busy_timeout(10_000)
        for pragma, value in (("synchronous", "NORMAL"), ("cache_size", -32_000), ("temp_store", "MEMORY")):
            _connection.pragma(pragma, value)  # the pragmas pbk sets
    return _connection


def table(name: str) -> dict[str, Any]:
    """A collection's id and column types, read once per process."""
    if name not in _tables:
        found = db().execute("SELECT id FROM _collections WHERE name = ?", (name,)).fetchone()
        if found is None:
            raise falcon.HTTPNotFound()
        columns = {row[1]: row[2].upper() for row in db().execute("SELECT * FROM pragma_table_info(?)", (name,))}
        _tables[name] = {"id": found[0], "name": name, "columns": columns}
    return _tables[name]


def new_id() -> str:
    return "".join(random.choices(ALPHABET, k=15))


def now() -> str:
    moment = datetime.now(UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def record(info: dict[str, Any], names: list[str], row: tuple[Any, ...]) -> dict[str, Any]:
    """A row as the API shows it: bools as bools, JSON columns decoded, secrets left out."""
    columns = info["columns"]
    out: dict[str, Any] = {"collectionId": info["id"], "collectionName": info["name"]}
    for name, value in zip(names, row):
        kind = columns.get(name)
        if name in HIDDEN:
            continue
        if kind == "BOOLEAN":
            value = bool(value)
        elif kind == "JSON" and isinstance(value, str):
            value = orjson.loads(value)
        out[name] = value
    return out


def select(info: dict[str, Any], sql: str, args: tuple[Any, ...]) -> list[dict[str, Any]]:
    cursor = db().execute(sql, args)
    try:
        names = [d[0] for d in cursor.get_description()]
    except apsw.ExecutionCompleteError:  # no row
        return []
    return [record(info, names, row) for row in cursor]


def to_column(kind: str | None, value: Any) -> Any:
    if isinstance(value, (list, dict)):
        return orjson.dumps(value).decode()
    if kind == "BOOLEAN":
        return int(bool(value))
    return value


def insert(info: dict[str, Any], fields: dict[str, Any]) -> dict[str, Any]:
    columns = info["columns"]
    stamp = now()
    row = {"id": fields.get("id") or new_id(), "created": stamp, "updated": stamp}
    row.update((k, to_column(columns[k], v)) for k, v in fields.items() if k in columns and k not in row)
    names = ", ".join(f"`{k}`" for k in row)
    db().execute(f"INSERT INTO `{info['name']}` ({names}) VALUES ({', '.join('?' * len(row))})",
                 tuple(row.values()))
    return record(info, list(row), tuple(row.values()))


def claims(req: falcon.asgi.Request) -> dict[str, Any]:
    """The token's payload, unverified (the ceiling does no auth)."""
    token = req.get_header("Authorization") or ""
    try:
        payload = token.split(".")[1]
        return orjson.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError):
        return {}


def sign(payload: dict[str, Any], key: str) -> str:
    """An HS256 JWT, as a bare app would make one."""
    def part(data: bytes) -> bytes:
        return base64.urlsafe_b64encode(data).rstrip(b"=")

    head = part(b'{"alg":"HS256","typ":"JWT"}') + b"." + part(orjson.dumps(payload))
    return (head + b"." + part(hmac.new(key.encode(), head, hashlib.sha256).digest())).decode()


def send(resp: falcon.asgi.Response, body: Any) -> None:
    resp.data = orjson.dumps(body)
    resp.content_type = "application/json"


class Health:
    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        send(resp, {"code": 200, "message": "API is healthy.", "data": {}})


class Records:
    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response, collection: str) -> None:
        info = table(collection)
        where = FILTERS.get(req.get_param("filter") or "")
        order = SORTS.get(req.get_param("sort") or "")
        if where is None or order is None:
            raise falcon.HTTPBadRequest(title="the ceiling knows only the harness's filters and sorts")
        conditions = [where] if where else []
        args: tuple[Any, ...] = ()
        if collection in OWNER_FIELD:
            conditions.append(f"`{OWNER_FIELD[collection]}` = ?")
            args = (claims(req).get("id", ""),)
        source = f"`{collection}`" + (f" WHERE {' AND '.join(conditions)}" if conditions else "")
        page = req.get_param_as_int("page") or 1
        per_page = req.get_param_as_int("perPage") or 30
        items = select(info, f"SELECT * FROM {source} ORDER BY {order} LIMIT ? OFFSET ?",
                       (*args, per_page, (page - 1) * per_page))
        total = -1
        if not req.get_param_as_bool("skipTotal"):  # no WHERE: SQLite counts from the smallest index
            total = db().execute(f"SELECT COUNT(*) FROM {source}", args).fetchone()[0]
        expand = req.get_param("expand")
        if expand:
            expand_relation(info, items, expand)
        send(resp, {"page": page, "perPage": per_page, "totalItems": total,
                    "totalPages": -1 if total < 0 else -(-total // per_page), "items": items})

    async def on_post(self, req: falcon.asgi.Request, resp: falcon.asgi.Response, collection: str) -> None:
        info = table(collection)
        if (req.content_type or "").startswith("multipart/form-data"):
            fields = await multipart(req, info)
        else:
            fields = orjson.loads(await req.stream.read())
        send(resp, insert(info, fields))


def expand_relation(info: dict[str, Any], items: list[dict[str, Any]], field: str) -> None:
    """``expand=<relation to users>``: one query for every item's related record."""
    ids = sorted({item[field] for item in items if item.get(field)})
    if not ids:
        return
    users = table("users")
    related = {r["id"]: r for r in select(users, f"SELECT * FROM users WHERE id IN ({', '.join('?' * len(ids))})",
                                          tuple(ids))}
    for item in items:
        if item.get(field) in related:
            item["expand"] = {field: related[item[field]]}


async def multipart(req: falcon.asgi.Request, info: dict[str, Any]) -> dict[str, Any]:
    """Text parts become fields; file parts are written under storage/ with a random suffix."""
    fields: dict[str, Any] = {}
    form = await req.get_media()
    async for part in form:
        if part.filename:
            stem, dot, extension = part.filename.rpartition(".")
            stored = f"{stem or extension}_{new_id()[:10]}{dot}{extension if stem else ''}"
            fields[part.name] = (stored, await part.stream.read())
        else:
            fields[part.name] = await part.get_text()
    files = {k: v for k, v in fields.items() if isinstance(v, tuple)}
    for name, (stored, _data) in files.items():
        fields[name] = stored
    fields["id"] = new_id()  # the files' folder is named after the record
    folder = DATA_DIR / "storage" / info["id"] / fields["id"]
    folder.mkdir(parents=True, exist_ok=True)
    for stored, data in files.values():
        (folder / stored).write_bytes(data)
    return fields


class Record:
    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response, collection: str,
                     record_id: str) -> None:
        info = table(collection)
        found = select(info, f"SELECT * FROM `{collection}` WHERE id = ? LIMIT 1", (record_id,))
        if not found:
            raise falcon.HTTPNotFound()
        send(resp, found[0])

    async def on_patch(self, req: falcon.asgi.Request, resp: falcon.asgi.Response, collection: str,
                       record_id: str) -> None:
        info = table(collection)
        columns = info["columns"]
        changes: list[str] = []
        args: list[Any] = []
        for key, value in orjson.loads(await req.stream.read()).items():
            name = key.rstrip("+")
            if name not in columns or name in ("id", "created", "updated"):
                continue
            changes.append(f"`{name}` = `{name}` + ?" if key.endswith("+") else f"`{name}` = ?")
            args.append(to_column(columns[name], value))
        found = select(info, f"UPDATE `{collection}` SET {', '.join([*changes, '`updated` = ?'])} "
                             "WHERE id = ? RETURNING *", (*args, now(), record_id))
        if not found:
            raise falcon.HTTPNotFound()
        send(resp, found[0])

    async def on_delete(self, req: falcon.asgi.Request, resp: falcon.asgi.Response, collection: str,
                        record_id: str) -> None:
        table(collection)
        db().execute(f"DELETE FROM `{collection}` WHERE id = ?", (record_id,))
        if not db().changes():
            raise falcon.HTTPNotFound()
        resp.status = falcon.HTTP_204


class AuthWithPassword:
    async def on_post(self, req: falcon.asgi.Request, resp: falcon.asgi.Response, collection: str) -> None:
        import bcrypt

        info = table(collection)
        body = orjson.loads(await req.stream.read())
        cursor = db().execute(f"SELECT * FROM `{collection}` WHERE email = ? LIMIT 1", (body.get("identity"),))
        try:
            names = [d[0] for d in cursor.get_description()]
        except apsw.ExecutionCompleteError:
            raise falcon.HTTPBadRequest() from None
        row = cursor.fetchone()
        stored = dict(zip(names, row))
        if not bcrypt.checkpw(str(body.get("password", "")).encode(), stored["password"].encode()):
            raise falcon.HTTPBadRequest()
        token = sign({"id": stored["id"], "type": "auth", "collectionId": info["id"],
                      "exp": int(time.time()) + 604_800, "refreshable": True}, stored["tokenKey"])
        send(resp, {"token": token, "record": record(info, names, row)})


class Batch:
    async def on_post(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        """Every create in one transaction, as ``/api/batch`` does. ``BEGIN IMMEDIATE`` takes the
        write lock first (waiting out the busy timeout): a deferred transaction that read the
        schema before its first insert fails at once with SQLITE_BUSY when the other worker
        committed in between, which a snapshot can't be upgraded past."""
        items = orjson.loads(await req.stream.read())["requests"]
        results = []
        connection = db()
        connection.execute("BEGIN IMMEDIATE")
        try:
            for item in items:
                collection = item["url"].split("?")[0].split("/")[3]
                results.append({"status": 200, "body": insert(table(collection), item.get("body") or {})})
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")
        send(resp, results)


app = falcon.asgi.App()
app.add_route("/api/health", Health())
app.add_route("/api/collections/{collection}/records", Records())
app.add_route("/api/collections/{collection}/records/{record_id}", Record())
app.add_route("/api/collections/{collection}/auth-with-password", AuthWithPassword())
app.add_route("/api/batch", Batch())
