"""The collections API: superusers only, real DDL in one transaction, data kept across changes."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pbk_sdk.testing.scenarios import ANY, Scenario, contains, run

ACCESS = [
    Scenario("guests need a token", "GET", "/api/collections", 401,
             json={"message": "The request requires valid record authorization token."}),
    Scenario("users are not superusers", "GET", "/api/collections", 403, auth="user",
             json={"message": "The authorized record is not allowed to perform this action."}),
    Scenario("superusers list the system collections", "GET", "/api/collections?sort=name&fields=name", 200,
             auth="superuser", json={"totalItems": 6, "items": [
                 {"name": "_authOrigins"}, {"name": "_externalAuths"}, {"name": "_mfas"}, {"name": "_otps"},
                 {"name": "_superusers"}, {"name": "users"}]}),
    Scenario("the list filters on collection columns", "GET", "/api/collections?filter=system%3Dfalse", 200,
             auth="superuser", json={"totalItems": 1, "items": [{"name": "users", "id": "_pb_users_auth_"}]}),
    Scenario("one collection by name", "GET", "/api/collections/users", 200, auth="superuser",
             json={"id": "_pb_users_auth_", "type": "auth", "authRule": "", "manageRule": None,
                   "passwordAuth": {"enabled": True, "identityFields": ["email"]}}),
    Scenario("an unknown collection is a 404", "GET", "/api/collections/nope", 404, auth="superuser"),
    Scenario("scaffolds of every type", "GET", "/api/collections/meta/scaffolds", 200, auth="superuser",
             json={"base": {"type": "base", "fields": [{"name": "id"}]}, "view": {"type": "view", "fields": []},
                   "auth": {"type": "auth", "fields": [{"name": "id"}, {"name": "password"}, {"name": "tokenKey"},
                                                       {"name": "email"}, {"name": "emailVisibility"}, {"name": "verified"}]}}),
]


@pytest.mark.parametrize("scenario", ACCESS, ids=lambda s: s.name)
async def test_access(api, tokens, scenario):
    await run(scenario, api, tokens)


async def create(api: Any, tokens: dict[str, str], payload: dict[str, Any], status: int = 200) -> Any:
    result = await api.post("/api/collections", json=payload, headers={"Authorization": tokens["superuser"]})
    assert result.status_code == status, result.text
    return result.json


async def test_a_created_collection_looks_like_pocketbases(api, tokens):
    body = await create(api, tokens, {"name": "all", "type": "base", "fields": [
        {"name": "t", "type": "text"}, {"name": "n", "type": "number"}, {"name": "s", "type": "select", "values": ["a", "b"]},
        {"name": "ad", "type": "autodate", "onCreate": True}]})
    # PocketBase derives ids from CRC32s, so they are the same in both programs.
    contains(body, {
        "id": "pbc_876506028", "name": "all", "type": "base", "system": False, "indexes": [],
        "listRule": None, "viewRule": None, "createRule": None, "updateRule": None, "deleteRule": None,
        "created": ANY, "updated": ANY,
        "fields": [
            {"autogeneratePattern": "[a-z0-9]{15}", "help": "", "hidden": False, "id": "text3208210256", "max": 15,
             "min": 15, "name": "id", "pattern": "^[a-z0-9]+$", "presentable": False, "primaryKey": True,
             "required": True, "system": True, "type": "text"},
            {"autogeneratePattern": "", "help": "", "hidden": False, "id": "text2238339752", "max": 0, "min": 0,
             "name": "t", "pattern": "", "presentable": False, "primaryKey": False, "required": False,
             "system": False, "type": "text"},
            {"help": "", "hidden": False, "id": "number2013832146", "max": None, "min": None, "name": "n",
             "onlyInt": False, "presentable": False, "required": False, "system": False, "type": "number"},
            {"help": "", "hidden": False, "id": ANY, "maxSelect": ANY, "name": "s", "presentable": False,
             "required": False, "system": False, "type": "select", "values": ["a", "b"]},
            {"hidden": False, "id": "autodate2011229528", "name": "ad", "onCreate": True, "onUpdate": False,
             "presentable": False, "system": False, "type": "autodate"},
        ],
    })


async def test_schema_changes_keep_data(api, tokens, store, pbk_app):
    su = {"Authorization": tokens["superuser"]}
    body = await create(api, tokens, {"name": "things", "type": "base", "viewRule": "", "fields": [
        {"name": "title", "type": "text"}, {"name": "kind", "type": "select", "values": ["x", "y"], "maxSelect": 1},
        {"name": "gone", "type": "text"}]})
    things = store.collection("things")
    await store.create(things, {"id": "thing0000000001", "title": "kept", "kind": "x", "gone": "bye"})
    fields = body["fields"]
    title = next(f for f in fields if f["name"] == "title")
    kind = next(f for f in fields if f["name"] == "kind")
    changed = await api.patch("/api/collections/things", headers=su, json={
        "name": "stuff",
        "fields": [fields[0], {**title, "name": "heading"}, {**kind, "maxSelect": 2}, {"name": "extra", "type": "number"}],
    })
    assert changed.status_code == 200, changed.text
    assert [f["name"] for f in changed.json["fields"]] == ["id", "heading", "kind", "extra"]
    record = (await api.get("/api/collections/stuff/records/thing0000000001")).json
    assert record == {"collectionId": body["id"], "collectionName": "stuff", "id": "thing0000000001",
                      "heading": "kept", "kind": ["x"], "extra": 0}
    columns_sql = (
        "SELECT 0, name FROM pragma_table_info('stuff')" if pbk_app.db.engine == "sqlite"
        else "SELECT 0, column_name FROM information_schema.columns WHERE table_name = 'stuff'"
    )
    columns = await pbk_app.db.read(lambda c: [r[1] for r in c.execute(columns_sql)])
    assert "gone" not in columns and "title" not in columns


async def test_a_unique_index_over_duplicates_fails_whole(api, tokens, store):
    su = {"Authorization": tokens["superuser"]}
    await create(api, tokens, {"name": "dupes", "type": "base", "fields": [{"name": "code", "type": "text"}]})
    dupes = store.collection("dupes")
    for _ in range(2):
        await store.create(dupes, {"code": "same"})
    result = await api.patch("/api/collections/dupes", headers=su, json={
        "name": "renamed", "indexes": ["CREATE UNIQUE INDEX idx_code ON dupes (code)"]})
    assert result.status_code == 400, result.text
    assert (await api.get("/api/collections/dupes", headers=su)).status_code == 200, "the rename was rolled back"


async def test_invalid_definitions_are_400s(api, tokens):
    bad_index = await create(api, tokens, {"name": "x1", "type": "base", "indexes": ["CREATE INDEX nope ON x1 (missing)"]}, 400)
    assert bad_index["data"]["indexes"]["0"]["code"] == "validation_invalid_index_expression"
    bad_rule = await create(api, tokens, {"name": "x2", "type": "base", "listRule": "nope = 1"}, 400)
    assert bad_rule["data"]["listRule"]["code"] == "validation_invalid_rule"
    taken = await create(api, tokens, {"name": "USERS", "type": "base"}, 400)
    assert taken["data"]["name"]["code"] == "validation_collection_name_exists"
    unknown_type = await create(api, tokens, {"name": "x3", "type": "base", "fields": [{"name": "f", "type": "nope"}]}, 400)
    assert unknown_type["message"] == "Failed to load the submitted data due to invalid formatting."


async def test_a_referenced_collection_cannot_be_deleted(api, tokens):
    su = {"Authorization": tokens["superuser"]}
    parent = await create(api, tokens, {"name": "parents", "type": "base"})
    await create(api, tokens, {"name": "children", "type": "base", "fields": [
        {"name": "parent", "type": "relation", "collectionId": parent["id"]}]})
    result = await api.delete("/api/collections/parents", headers=su)
    assert result.status_code == 400
    assert result.json["message"] == "Failed to delete collection probably due to existing reference in children."
    assert (await api.delete("/api/collections/children", headers=su)).status_code == 204
    assert (await api.delete("/api/collections/parents", headers=su)).status_code == 204


async def test_truncate_and_import(api, tokens, store):
    su = {"Authorization": tokens["superuser"]}
    await create(api, tokens, {"name": "logs", "type": "base", "listRule": "", "fields": [{"name": "line", "type": "text"}]})
    for n in range(3):
        await store.create(store.collection("logs"), {"line": str(n)})
    assert (await api.delete("/api/collections/logs/truncate", headers=su)).status_code == 204
    assert (await api.get("/api/collections/logs/records")).json["totalItems"] == 0

    result = await api.put("/api/collections/import", headers=su, json={"deleteMissing": True, "collections": [
        {"name": "imported", "type": "base", "fields": [{"name": "a", "type": "text"}]},
        {"name": "users", "type": "auth", "listRule": ""},
    ]})
    assert result.status_code == 204, result.text
    names = {c["name"] for c in (await api.get("/api/collections?perPage=100", headers=su)).json["items"]}
    assert "imported" in names and "logs" not in names and "_superusers" in names


async def test_view_collections_infer_fields_and_are_read_only(api, tokens, store):
    su = {"Authorization": tokens["superuser"]}
    await create(api, tokens, {"name": "items", "type": "base", "listRule": "", "fields": [
        {"name": "label", "type": "text"}, {"name": "qty", "type": "number"}]})
    for label, qty in (("a", 1), ("a", 2), ("b", 5)):
        await store.create(store.collection("items"), {"label": label, "qty": qty})
    view = await create(api, tokens, {"name": "totals", "type": "view", "listRule": "",
                                      "viewQuery": "SELECT MIN(id) AS id, label, SUM(qty) AS total FROM items GROUP BY label"})
    assert [(f["name"], f["type"]) for f in view["fields"]] == [("id", "text"), ("label", "text"), ("total", "json")]
    assert view["fields"][1]["id"].startswith("_clone_"), "a copied field, as PocketBase names it"
    listed = await api.get("/api/collections/totals/records?sort=label&fields=label,total")
    assert listed.json["items"] == [{"label": "a", "total": 3}, {"label": "b", "total": 5}]
    refused = await api.post("/api/collections/totals/records", json={"label": "c"}, headers=su)
    assert refused.status_code == 400 and refused.json["message"] == "Unsupported collection type."
    broken = await create(api, tokens, {"name": "broken", "type": "view", "viewQuery": "SELECT nope FROM missing"}, 400)
    assert broken["data"]["viewQuery"]["code"] == "validation_invalid_view_query"


async def test_a_new_auth_collection_gets_pocketbases_indexes_and_signs_in(api, tokens):
    body = await create(api, tokens, {"name": "members", "type": "auth", "createRule": ""})
    cid = body["id"]
    assert body["indexes"] == [
        f"CREATE UNIQUE INDEX `idx_tokenKey_{cid}` ON `members` (`tokenKey`)",
        f"CREATE UNIQUE INDEX `idx_email_{cid}` ON `members` (`email`) WHERE `email` != ''",
    ]
    assert "secret" not in body["authToken"], "token secrets are write-only"
    created = await api.post("/api/collections/members/records", json={
        "email": "m@example.com", "password": "member-pass", "passwordConfirm": "member-pass"})
    assert created.status_code == 200, created.text
    assert "password" not in created.json and "tokenKey" not in created.json
    duplicate = await api.post("/api/collections/members/records", json={
        "email": "m@example.com", "password": "member-pass", "passwordConfirm": "member-pass"})
    assert duplicate.json["data"]["email"]["code"] == "validation_not_unique"
    login = await api.post("/api/collections/members/auth-with-password", json={"identity": "m@example.com", "password": "member-pass"})
    assert login.status_code == 200, login.text


async def test_schema_sql_is_one_statement_on_its_own_table(api, tokens):
    smuggled = await create(api, tokens, {"name": "s1", "type": "base", "fields": [{"name": "a", "type": "text"}],
                                         "indexes": ["CREATE INDEX idx_a ON s1 (a); UPDATE _collections SET listRule = ''"]}, 400)
    assert smuggled["data"]["indexes"]["0"]["code"] == "validation_invalid_index_expression"
    other_table = await create(api, tokens, {"name": "s2", "type": "base",
                                            "indexes": ["CREATE INDEX idx_x ON _superusers (email)"]}, 400)
    assert other_table["data"]["indexes"]["0"]["code"] == "validation_invalid_index_expression"
    view = await create(api, tokens, {"name": "v1", "type": "view", "viewQuery": "SELECT id FROM users; DELETE FROM users"}, 400)
    assert view["data"]["viewQuery"]["code"] == "validation_invalid_view_query"
    not_select = await create(api, tokens, {"name": "v2", "type": "view", "viewQuery": "DELETE FROM users"}, 400)
    assert not_select["data"]["viewQuery"]["code"] == "validation_invalid_view_query"
    su = {"Authorization": tokens["superuser"]}
    superusers = (await api.get("/api/collections/_superusers", headers=su)).json
    assert superusers["listRule"] is None


async def test_system_collection_rules_cannot_change(api, tokens):
    su = {"Authorization": tokens["superuser"]}
    result = await api.patch("/api/collections/_superusers", headers=su, json={"createRule": ""})
    assert result.status_code == 400
    assert result.json["data"]["createRule"]["code"] == "validation_collection_system_rule_change"
    assert (await api.patch("/api/collections/_superusers", headers=su, json={"createRule": None})).status_code == 200


async def test_an_import_sees_its_own_earlier_collections(api, tokens):
    su = {"Authorization": tokens["superuser"]}
    result = await api.put("/api/collections/import", headers=su, json={"collections": [
        {"name": "authors", "type": "base", "listRule": "", "fields": [{"name": "name", "type": "text"}]},
        {"name": "books", "type": "base", "listRule": "author.name != ''", "fields": [
            {"name": "author", "type": "relation", "collectionId": "authors"}]},
    ]})
    assert result.status_code == 400, "a relation names its target by id"
    assert (await api.get("/api/collections/authors", headers=su)).status_code == 404, "rolled back whole"
    authors_id = "pbc_authors_import"
    result = await api.put("/api/collections/import", headers=su, json={"collections": [
        {"id": authors_id, "name": "authors", "type": "base", "listRule": "", "fields": [{"name": "name", "type": "text"}]},
        {"name": "books", "type": "base", "listRule": "author.name != ''", "fields": [
            {"name": "author", "type": "relation", "collectionId": authors_id}]},
    ]})
    assert result.status_code == 204, result.text
    books = (await api.get("/api/collections/books", headers=su)).json
    assert books["listRule"] == "author.name != ''"



async def test_saving_an_auth_collection_gives_only_its_tokens_secrets(api, tokens, pbk_app):
    """PocketBase's mfa and otp options have no secret; every token option keeps its own."""
    def stored(conn):
        return json.loads(conn.execute("SELECT options FROM _collections WHERE name = 'users'").get)

    before = await pbk_app.db.read(stored)
    result = await api.patch("/api/collections/users", json={"mfa": {"duration": 900}},
                             headers={"Authorization": tokens["superuser"]})
    assert result.status_code == 200, result.text
    after = await pbk_app.db.read(stored)
    assert after["mfa"] == {**before["mfa"], "duration": 900} and "secret" not in after["mfa"]
    assert "secret" not in after["otp"] and after["authToken"] == before["authToken"]
