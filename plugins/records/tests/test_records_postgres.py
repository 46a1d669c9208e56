"""The records API on PostgreSQL answers as on SQLite: the same requests go to a live ``pbk
serve --db postgresql://...`` and to one on SQLite, and their answers are compared (ids and
times aside). Then what only PostgreSQL shows: the tables it made, ``score+`` from two
processes on one database, and text with NUL refused."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from pbk_sdk.testing.postgres import postgres_database
from pbk_sdk.testing.servers import LiveServer, start_live_server

pytestmark = pytest.mark.slow

PLUGINS = "records,auth"
EMAIL, PASSWORD = "root@example.com", "1234567890"
#: Answer keys whose values differ between two servers by nature (times, tokens, a fresh
#: autodate, a salted password hash).
VOLATILE = {"created", "updated", "token", "stamp", "secret"}


class Server:
    def __init__(self, live: LiveServer, token: str) -> None:
        self.live = live
        self.client = httpx.Client(base_url=live.url, headers={"Authorization": token}, timeout=30)

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        response = self.client.request(method, path, json=body)
        return response.status_code, response.json() if response.content else None


def _serve(data_dir: Path, db: str | None) -> Server:
    data_dir.mkdir(parents=True, exist_ok=True)
    db_args = ["--db", db or "sqlite:"]  # (SQLite named: PBK_TEST_DB would give it PostgreSQL)
    upsert = subprocess.run(
        [sys.executable, "-m", "pbk", "--plugins", PLUGINS, "--dir", str(data_dir), *db_args,
         "superuser", "upsert", EMAIL, PASSWORD],
        capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=120, check=False,
    )
    assert upsert.returncode == 0, upsert.stdout + upsert.stderr
    live = start_live_server(data_dir, ["--plugins", PLUGINS, *db_args])
    login = httpx.post(f"{live.url}/api/collections/_superusers/auth-with-password",
                       json={"identity": EMAIL, "password": PASSWORD}, timeout=30)
    assert login.status_code == 200, login.text
    return Server(live, login.json()["token"])


@pytest.fixture(scope="module")
def database() -> Iterator[str]:
    with postgres_database() as url:
        yield url


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory, database: str) -> Iterator[tuple[Server, Server]]:
    """(PostgreSQL, SQLite) servers, started from empty databases."""
    base = tmp_path_factory.mktemp("pg")
    started = []
    try:
        started.append(_serve(base / "pg_data", database))
        started.append(_serve(base / "sqlite_data", None))
        yield started[0], started[1]
    finally:
        for server in started:
            server.client.close()
            server.live.stop()


def _normal(value: Any) -> Any:
    """An answer without what differs by nature: times, tokens, the random ids of fields a
    view copies (``_clone_...``)."""
    if isinstance(value, dict):
        return {k: ("<volatile>" if k in VOLATILE else _normal(v)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_normal(v) for v in value]
    if isinstance(value, str) and value.startswith("_clone_"):
        return "_clone_"
    return value


def _difference(a: Any, b: Any, where: str = "$") -> str:
    """Where two answers first differ, and how."""
    if isinstance(a, dict) and isinstance(b, dict) and a.keys() == b.keys():
        return next((_difference(a[k], b[k], f"{where}.{k}") for k in a if a[k] != b[k]), "")
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)) and len(a) == len(b):
        return next((_difference(x, y, f"{where}[{n}]") for n, (x, y) in enumerate(zip(a, b)) if x != y), "")
    return f"{where}: PostgreSQL {a!r}, SQLite {b!r}"


def same(servers: tuple[Server, Server], method: str, path: str, body: Any = None) -> tuple[int, Any]:
    """The answer both servers give (asserted equal); the PostgreSQL server's, as it came."""
    pg, sqlite = servers
    on_pg, on_sqlite = pg.call(method, path, body), sqlite.call(method, path, body)
    assert _normal(on_pg) == _normal(on_sqlite), f"{method} {path}: {_difference(_normal(on_pg), _normal(on_sqlite))}"
    return on_pg


def _pg_rows(url: str, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute(sql, params).fetchall()


ALL_TYPES = [
    {"name": "title", "type": "text", "max": 50},
    {"name": "score", "type": "number"},
    {"name": "ratio", "type": "number"},
    {"name": "done", "type": "bool"},
    {"name": "meta", "type": "json"},
    {"name": "contact", "type": "email"},
    {"name": "site", "type": "url"},
    {"name": "body", "type": "editor"},
    {"name": "due", "type": "date"},
    {"name": "stamp", "type": "autodate", "onCreate": True, "onUpdate": True},
    {"name": "where", "type": "geoPoint"},
    {"name": "kind", "type": "select", "values": ["a", "b", "c"], "maxSelect": 1},
    {"name": "kinds", "type": "select", "values": ["a", "b", "c"], "maxSelect": 3},
    {"name": "secret", "type": "password"},
    {"name": "attachment", "type": "file", "maxSelect": 1},
]


def test_every_field_type_round_trips_as_on_sqlite(servers: tuple[Server, Server]) -> None:
    status, _ = same(servers, "POST", "/api/collections", {"name": "things", "type": "base", "fields": ALL_TYPES,
                                                          "listRule": "", "viewRule": ""})
    assert status == 200
    values = [
        {"id": "thing0000000001", "title": "Hello", "score": 5, "ratio": 2.5, "done": True,
         "meta": {"b": 1, "a": [1, 2.0, "x"], "n": None}, "contact": "a@example.com", "site": "https://example.com",
         "body": "<p>hi</p>", "due": "2024-01-02 03:04:05.678Z", "where": {"lon": 1.5, "lat": -2},
         "kind": "b", "kinds": ["c", "a"], "secret": "a-long-secret"},
        {"id": "thing0000000002", "score": -7.25, "meta": "just text", "kinds": "b"},
        {"id": "thing0000000003", "score": 2**53, "meta": 12, "done": False},
    ]
    for body in values:
        assert same(servers, "POST", "/api/collections/things/records", body)[0] == 200
    status, page = same(servers, "GET", "/api/collections/things/records?sort=-score")
    assert status == 200 and page["totalItems"] == 3
    first = next(item for item in page["items"] if item["id"] == "thing0000000001")
    assert first["score"] == 5 and isinstance(first["score"], int) and first["done"] is True
    assert first["meta"] == {"b": 1, "a": [1, 2.0, "x"], "n": None}
    assert first["where"] == {"lon": 1.5, "lat": -2}
    same(servers, "PATCH", "/api/collections/things/records/thing0000000002",
         {"score+": 1.25, "kinds+": ["a"], "done": "true", "title": "x" * 51})
    same(servers, "PATCH", "/api/collections/things/records/thing0000000002",
         {"score+": 1.25, "kinds+": ["a"], "kinds-": "b", "done": "true"})
    same(servers, "GET", "/api/collections/things/records/thing0000000002")
    same(servers, "GET", "/api/collections/things/records?filter=" + "kinds ?= 'a' && score > 0 && done = true")
    same(servers, "GET", "/api/collections/things/records?sort=@rowid&fields=id,score")


def test_collection_changes_keep_the_data(servers: tuple[Server, Server], database: str) -> None:
    fields = [{"name": "title", "type": "text"}, {"name": "tag", "type": "select", "values": ["x", "y", "z"]},
              {"name": "old", "type": "number"}]
    assert same(servers, "POST", "/api/collections", {"name": "notes", "fields": fields, "listRule": ""})[0] == 200
    for n, tag in enumerate(["x", "y", ""]):
        body = {"id": f"note0000000000{n}", "title": f"t{n}", "tag": tag, "old": n}
        assert same(servers, "POST", "/api/collections/notes/records", body)[0] == 200
    _, notes = same(servers, "GET", "/api/collections/notes")
    changed = []
    for field in notes["fields"]:
        if field["name"] == "title":
            changed.append({**field, "name": "heading"})
        elif field["name"] == "tag":
            changed.append({**field, "maxSelect": 2})  # single -> multiple
        elif field["name"] != "old":
            changed.append(field)
    changed.append({"name": "extra", "type": "bool"})
    status, _ = same(servers, "PATCH", "/api/collections/notes", {"name": "memos", "fields": changed})
    assert status == 200
    _, page = same(servers, "GET", "/api/collections/memos/records?sort=heading")
    assert [(i["heading"], i["tag"], i["extra"]) for i in page["items"]] == [
        ("t0", ["x"], False), ("t1", ["y"], False), ("t2", [], False)]
    _, memos = same(servers, "GET", "/api/collections/memos")
    back = [{**f, "maxSelect": 1} if f["name"] == "tag" else f for f in memos["fields"]]  # multiple -> single
    assert same(servers, "PATCH", "/api/collections/memos", {"fields": back})[0] == 200
    _, page = same(servers, "GET", "/api/collections/memos/records?sort=heading")
    assert [i["tag"] for i in page["items"]] == ["x", "y", ""]
    assert _pg_rows(database, "SELECT to_regclass('public.notes'), to_regclass('public.memos') IS NOT NULL") == [
        (None, True)]
    assert same(servers, "DELETE", "/api/collections/memos")[0] == 204
    assert _pg_rows(database, "SELECT to_regclass('public.memos')") == [(None,)]
    same(servers, "GET", "/api/collections/memos/records")


def test_tables_have_the_postgresql_layout(servers: tuple[Server, Server], database: str) -> None:
    fields = [{"name": "n", "type": "number"}, {"name": "b", "type": "bool"}, {"name": "j", "type": "json"},
              {"name": "m", "type": "relation", "collectionId": "_pb_users_auth_", "maxSelect": 5}]
    assert servers[0].call("POST", "/api/collections", {"name": "layout", "fields": fields})[0] == 200
    columns = _pg_rows(
        database,
        "SELECT column_name, data_type, collation_name, is_identity FROM information_schema.columns "
        "WHERE table_name = 'layout' ORDER BY ordinal_position",
    )
    assert columns == [
        ("b", "boolean", None, "NO"),
        ("id", "text", "C", "NO"),
        ("j", "json", None, "NO"),
        ("m", "json", None, "NO"),
        ("n", "double precision", None, "NO"),
        ("rowid", "bigint", None, "YES"),
    ]


def test_lists_sorts_expand_and_back_relations_as_on_sqlite(servers: tuple[Server, Server]) -> None:
    authors = {"name": "authors", "fields": [{"name": "name", "type": "text"}], "listRule": "", "viewRule": ""}
    assert same(servers, "POST", "/api/collections", authors)[0] == 200
    _, created = same(servers, "GET", "/api/collections/authors")
    books = {"name": "books", "listRule": "", "viewRule": "", "fields": [
        {"name": "title", "type": "text"}, {"name": "pages", "type": "number"},
        {"name": "author", "type": "relation", "collectionId": created["id"], "maxSelect": 1},
        {"name": "editors", "type": "relation", "collectionId": created["id"], "maxSelect": 3}]}
    assert same(servers, "POST", "/api/collections", books)[0] == 200
    for n, name in enumerate(["Ann", "bob", "Cid"]):
        same(servers, "POST", "/api/collections/authors/records", {"id": f"author00000000{n}", "name": name})
    for n in range(7):
        body = {"id": f"book0000000000{n}", "title": f"B{n % 3}", "pages": 100 - n * 10,
                "author": f"author00000000{n % 3}", "editors": [f"author00000000{(n + 1) % 3}", "author000000000"]}
        assert same(servers, "POST", "/api/collections/books/records", body)[0] == 200
    for query in (
        "sort=-pages&perPage=3&page=2",
        "sort=title,-pages",
        "sort=author.name,id",
        "filter=author.name ~ 'b' || pages < 50&sort=id",
        "filter=editors.name ?= 'Cid'&sort=-id",
        "expand=author,editors&sort=id&perPage=2",
        "sort=@rowid&skipTotal=1",
        "filter=title > 'B1'&sort=id",
        "filter=pages >= 40 && pages <= 70&fields=id,pages&sort=pages",
    ):
        status, answer = same(servers, "GET", f"/api/collections/books/records?{query}")
        assert status == 200, answer
    status, answer = same(servers, "GET", "/api/collections/authors/records?expand=books_via_author,"
                                          "books_via_editors&sort=id")
    assert status == 200 and len(answer["items"][0]["expand"]["books_via_editors"]) == 7


def test_batch_is_all_or_nothing_as_on_sqlite(servers: tuple[Server, Server]) -> None:
    for server in servers:
        assert server.call("PATCH", "/api/settings", {"batch": {"enabled": True}})[0] in (200, 404)
    spec = {"name": "ledger", "fields": [{"name": "label", "type": "text", "required": True}], "listRule": ""}
    assert same(servers, "POST", "/api/collections", spec)[0] == 200
    ok = {"requests": [
        {"method": "POST", "url": "/api/collections/ledger/records", "body": {"id": "ledger000000001", "label": "a"}},
        {"method": "PATCH", "url": "/api/collections/ledger/records/ledger000000001", "body": {"label": "b"}},
    ]}
    same(servers, "POST", "/api/batch", ok)
    failing = {"requests": [
        {"method": "POST", "url": "/api/collections/ledger/records", "body": {"id": "ledger000000002", "label": "c"}},
        {"method": "POST", "url": "/api/collections/ledger/records", "body": {"id": "ledger000000003"}},
    ]}
    same(servers, "POST", "/api/batch", failing)
    same(servers, "GET", "/api/collections/ledger/records?sort=id")


def test_unique_indexes_answer_validation_not_unique(servers: tuple[Server, Server]) -> None:
    spec = {"name": "handles", "listRule": "", "fields": [{"name": "nick", "type": "text"},
                                                          {"name": "tags", "type": "json"}],
            "indexes": ["CREATE UNIQUE INDEX `idx_handles_nick` ON `handles` (`NICK` COLLATE NOCASE)",
                        "CREATE INDEX idx_handles_tags ON handles (tags)"]}
    assert same(servers, "POST", "/api/collections", spec)[0] == 200
    assert same(servers, "POST", "/api/collections/handles/records", {"id": "handle000000001", "nick": "Ada"})[0] == 200
    status, answer = same(servers, "POST", "/api/collections/handles/records", {"nick": "ada"})
    assert status == 400 and answer["data"]["nick"]["code"] == "validation_not_unique"
    status, answer = same(servers, "POST", "/api/collections/handles/records", {"id": "handle000000001"})
    assert status == 400 and answer["data"]["id"]["code"] == "validation_not_unique"
    same(servers, "POST", "/api/collections/handles/records", {"id": "handle000000002", "nick": "bob"})
    status, answer = same(servers, "PATCH", "/api/collections/handles/records/handle000000002", {"nick": "ADA"})
    assert status == 400 and answer["data"]["nick"]["code"] == "validation_not_unique"
    # an index made on duplicates names them too; a broken index statement is blamed by position
    _, handles = same(servers, "GET", "/api/collections/handles")
    same(servers, "PATCH", "/api/collections/handles/records/handle000000002", {"tags": [1]})
    same(servers, "PATCH", "/api/collections/handles/records/handle000000001", {"tags": [1]})
    status, answer = same(servers, "PATCH", "/api/collections/handles", {"indexes": [
        *handles["indexes"], "CREATE UNIQUE INDEX idx_handles_tags_u ON handles (tags)"]})
    assert status == 400, answer
    status, answer = same(servers, "PATCH", "/api/collections/handles", {"indexes": [
        "CREATE INDEX idx_broken ON handles (nick"]})
    assert status == 400, answer


def test_view_collections_are_postgresql_views(servers: tuple[Server, Server], database: str) -> None:
    spec = {"name": "scores", "listRule": "", "viewRule": "", "fields": [
        {"name": "player", "type": "text"}, {"name": "points", "type": "number"}]}
    assert same(servers, "POST", "/api/collections", spec)[0] == 200
    for n, (player, points) in enumerate([("a", 3), ("b", 4), ("a", 5)]):
        same(servers, "POST", "/api/collections/scores/records",
             {"id": f"score000000000{n}", "player": player, "points": points})
    query = ("SELECT min(s.id) AS id, s.player, count(*) AS games, cast(sum(s.points) AS numeric) AS total "
             "FROM scores s GROUP BY s.player")
    view = {"name": "standings", "type": "view", "listRule": "", "viewRule": "", "viewQuery": query}
    status, created = same(servers, "POST", "/api/collections", view)
    assert status == 200, created
    assert [(f["name"], f["type"]) for f in created["fields"]] == [
        ("id", "text"), ("player", "text"), ("games", "number"), ("total", "number")]
    _, page = same(servers, "GET", "/api/collections/standings/records?sort=-total")
    assert [(i["player"], i["games"], i["total"]) for i in page["items"]] == [("a", 2, 8), ("b", 1, 4)]
    same(servers, "GET", "/api/collections/standings/records?filter=games > 1")
    assert _pg_rows(database, "SELECT table_type FROM information_schema.tables WHERE table_name = 'standings'") == [
        ("VIEW",)]
    star = {"name": "everything", "type": "view", "viewQuery": "SELECT * FROM scores"}
    status, created = same(servers, "POST", "/api/collections", star)
    assert status == 200 and "rowid" not in [f["name"] for f in created["fields"]]
    bad = {"name": "bad", "type": "view", "viewQuery": "SELECT id FROM nowhere"}
    status, answer = servers[0].call("POST", "/api/collections", bad)
    assert (status, servers[1].call("POST", "/api/collections", bad)[0]) == (400, 400)
    assert answer["data"]["viewQuery"] == {  # PostgreSQL's words, not SQLite's
        "code": "validation_invalid_view_query", "message": 'Invalid query - relation "nowhere" does not exist.'}


async def _increments(urls: list[str], path: str, token: str, count: int) -> list[int]:
    async with httpx.AsyncClient(headers={"Authorization": token}, timeout=60) as client:
        answers = await asyncio.gather(*(
            client.patch(urls[n % len(urls)] + path, json={"score+": 1}) for n in range(count)))
    return [answer.status_code for answer in answers]


def test_score_increments_from_two_processes_are_never_lost(
    servers: tuple[Server, Server], database: str, tmp_path: Path
) -> None:
    pg = servers[0]
    spec = {"name": "counters", "fields": [{"name": "score", "type": "number"}], "updateRule": ""}
    assert pg.call("POST", "/api/collections", spec)[0] == 200
    assert pg.call("POST", "/api/collections/counters/records", {"id": "counter00000001"})[0] == 200
    second = start_live_server(tmp_path / "second", ["--plugins", PLUGINS, "--db", database])
    try:
        token = str(pg.client.headers["Authorization"])
        statuses = asyncio.run(_increments([pg.live.url, second.url],
                                           "/api/collections/counters/records/counter00000001", token, 60))
    finally:
        second.stop()
    assert statuses == [200] * 60
    assert pg.call("GET", "/api/collections/counters/records/counter00000001")[1]["score"] == 60


def test_text_with_nul_is_a_validation_error_or_found_nowhere(servers: tuple[Server, Server]) -> None:
    pg = servers[0]
    spec = {"name": "texts", "fields": [{"name": "body", "type": "text"}, {"name": "many", "type": "select",
                                                                           "values": ["a", "b"], "maxSelect": 2}]}
    assert pg.call("POST", "/api/collections", spec)[0] == 200
    status, answer = pg.call("POST", "/api/collections/texts/records", {"body": "a\x00b"})
    assert status == 400
    assert answer["data"]["body"]["code"] == "validation_invalid_value"
    status, answer = pg.call("POST", "/api/collections/texts/records", {"many": ["a", "b\x00"]})
    assert status == 400 and answer["data"]["many"]["code"] in ("validation_invalid_value", "validation_in_invalid")
    status, answer = pg.call("GET", "/api/collections/texts/records?filter=body%3D'a%00b'")
    assert status == 400 and answer["status"] == 400
    login = same(servers, "POST", "/api/collections/users/auth-with-password", {"identity": "a\x00@b.c", "password": "x"})
    assert login[0] == 400
    for method in ("GET", "PATCH", "DELETE"):
        assert pg.call(method, "/api/collections/texts/records/a%00b", {} if method == "PATCH" else None)[0] == 404
    assert pg.call("GET", "/api/collections/texts/records")[1]["totalItems"] == 0
