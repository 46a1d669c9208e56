"""The records REST API, scenario by scenario (request → status and JSON, events fired)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import pytest_asyncio
from pbk_sdk.testing.scenarios import ANY, Scenario, contains, run

OWNER_RULE = "author = @request.auth.id"

COLLECTIONS = [
    {
        "name": "tags",
        "type": "base",
        "listRule": "",
        "viewRule": "",
        "createRule": "",
        "fields": [{"name": "name", "type": "text", "required": True, "max": 20}],
        "indexes": ["CREATE UNIQUE INDEX idx_tags_name ON tags (name)"],
    },
    {
        "name": "posts",
        "type": "base",
        "listRule": f"published = true || {OWNER_RULE}",
        "viewRule": f"published = true || {OWNER_RULE}",
        "createRule": "@request.auth.id != '' && author = @request.auth.id",
        "updateRule": OWNER_RULE,
        "deleteRule": OWNER_RULE,
        "fields": [
            {"name": "title", "type": "text", "required": True, "max": 100},
            {"name": "body", "type": "editor"},
            {"name": "views", "type": "number", "onlyInt": True},
            {"name": "score", "type": "number"},
            {"name": "published", "type": "bool"},
            {"name": "author", "type": "relation", "collectionId": "_pb_users_auth_", "maxSelect": 1},
            {"name": "tags", "type": "relation", "collectionId": "TAGS_ID", "maxSelect": 5},
            {"name": "category", "type": "select", "values": ["news", "blog"], "maxSelect": 1},
            {"name": "labels", "type": "select", "values": ["a", "b", "c"], "maxSelect": 3},
            {"name": "meta", "type": "json"},
            {"name": "loc", "type": "geoPoint"},
            {"name": "contact", "type": "email"},
            {"name": "link", "type": "url"},
            {"name": "when", "type": "date"},
            {"name": "secret", "type": "text", "hidden": True},
            {"name": "created", "type": "autodate", "onCreate": True},
            {"name": "updated", "type": "autodate", "onCreate": True, "onUpdate": True},
        ],
    },
    {
        "name": "comments",
        "type": "base",
        "listRule": "",
        "viewRule": "",
        "createRule": "",
        "deleteRule": "",
        "fields": [
            {"name": "post", "type": "relation", "collectionId": "POSTS_ID", "maxSelect": 1, "required": True, "cascadeDelete": True},
            {"name": "message", "type": "text"},
        ],
    },
    {
        "name": "notes",
        "type": "base",
        "fields": [
            {"name": "post", "type": "relation", "collectionId": "POSTS_ID", "maxSelect": 1, "required": True},
            {"name": "text", "type": "text"},
        ],
    },
]


@pytest_asyncio.fixture
async def seeded(api: Any, tokens: dict[str, str], store: Any) -> dict[str, Any]:
    """Collections created through the API, and a few records."""
    su = {"Authorization": tokens["superuser"]}
    ids: dict[str, str] = {}
    for definition in COLLECTIONS:
        payload = _substitute(definition, ids)
        result = await api.post("/api/collections", json=payload, headers=su)
        assert result.status_code == 200, result.text
        ids[definition["name"].upper() + "_ID"] = result.json["id"]
    users = store.collection("users")
    ada = await store.find(users, "email", "ada@example.com")
    bob = await store.find(users, "email", "bob@example.com")
    tags = store.collection("tags")
    alpha = await store.create(tags, {"name": "alpha"})
    beta = await store.create(tags, {"name": "beta"})
    posts = store.collection("posts")
    public = await store.create(posts, {"id": "publicpost00001", "title": "Hello World", "published": True, "author": ada["id"], "tags": [alpha["id"], beta["id"]], "views": 10, "secret": "s1", "body": "<p>Some <b>long</b> body text here</p>"})
    draft = await store.create(posts, {"id": "draftpost000001", "title": "Draft", "published": False, "author": ada["id"], "views": 3})
    bobs = await store.create(posts, {"id": "bobspost0000001", "title": "Bob's", "published": False, "author": bob["id"]})
    await store.create(store.collection("comments"), {"post": public["id"], "message": "first"})
    return {"ids": ids, "ada": ada, "bob": bob, "alpha": alpha, "beta": beta, "public": public, "draft": draft, "bobs": bobs}


def _substitute(value: Any, ids: dict[str, str]) -> Any:
    if isinstance(value, dict):
        return {k: _substitute(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, ids) for v in value]
    return ids.get(value, value) if isinstance(value, str) else value


LIST = [
    Scenario("an unknown collection is a 404 envelope", "GET", "/api/collections/missing/records", 404,
             json={"status": 404, "message": "Missing collection context.", "data": {}}),
    Scenario("guests see only what the list rule lets them", "GET", "/api/collections/posts/records?sort=title", 200,
             json={"page": 1, "perPage": 30, "totalItems": 1, "totalPages": 1, "items": [{"id": "publicpost00001"}]},
             absent=("secret",)),
    Scenario("owners also see their drafts", "GET", "/api/collections/posts/records?sort=title", 200, auth="user",
             json={"totalItems": 2, "items": [{"title": "Draft"}, {"title": "Hello World"}]}, absent=("secret",)),
    Scenario("superusers see everything, hidden fields too", "GET", "/api/collections/posts/records?sort=-title", 200,
             auth="superuser", json={"totalItems": 3, "items": [{"title": "Hello World", "secret": "s1"}, ANY, ANY]}),
    Scenario("a superusers-only collection refuses guests", "GET", "/api/collections/notes/records", 403,
             json={"message": "Only superusers can perform this action.", "data": {}}),
    Scenario("a filter narrows the list", "GET", "/api/collections/posts/records?filter=views>5", 200, auth="superuser",
             json={"totalItems": 1, "items": [{"views": 10}]}),
    Scenario("an invalid filter is a 400, not a 500", "GET", "/api/collections/posts/records?filter=title%20%3D%3D%3D", 400,
             json={"message": "Something went wrong while processing your request.", "data": {}}),
    Scenario("an unknown sort field is a 400", "GET", "/api/collections/posts/records?sort=nope", 400, auth="superuser"),
    Scenario("page is clamped and perPage capped", "GET", "/api/collections/tags/records?page=0&perPage=5000", 200,
             json={"page": 1, "perPage": 1000, "totalItems": 2}),
    Scenario("a page that is not a number is a 400", "GET", "/api/collections/tags/records?page=abc", 400),
    Scenario("skipTotal skips the count", "GET", "/api/collections/tags/records?skipTotal=1", 200,
             json={"totalItems": -1, "totalPages": -1}),
    Scenario("skipTotal takes Go booleans only", "GET", "/api/collections/tags/records?skipTotal=yes", 400),
    Scenario("a page past the end is empty", "GET", "/api/collections/tags/records?page=9", 200, json={"items": []}),
    Scenario("fields picks keys of every item", "GET", "/api/collections/tags/records?fields=name&sort=name", 200,
             json={"items": [{"name": "alpha"}, {"name": "beta"}], "page": 1}),
    Scenario("expand resolves relations in order", "GET",
             "/api/collections/posts/records?expand=tags,author&fields=id,expand.tags.name", 200,
             json={"items": [{"id": "publicpost00001", "expand": {"tags": [{"name": "alpha"}, {"name": "beta"}]}}]}),
    Scenario("back-relations expand as lists", "GET",
             "/api/collections/posts/records?expand=comments_via_post&fields=expand.comments_via_post.message", 200,
             json={"items": [{"expand": {"comments_via_post": [{"message": "first"}]}}]}),
    Scenario("an excerpt strips HTML and cuts", "GET",
             "/api/collections/posts/records?fields=body:excerpt(9,true)", 200,
             json={"items": [{"body": "Some long..."}]}),
    Scenario("non-superusers may not filter by @request", "GET",
             "/api/collections/tags/records?filter=%40request.method%3D'GET'", 403),
]


@pytest.mark.parametrize("scenario", LIST, ids=lambda s: s.name)
async def test_list(api, tokens, seeded, scenario):
    await run(scenario, api, tokens)


VIEW = [
    Scenario("a public record is visible to guests", "GET", "/api/collections/posts/records/publicpost00001", 200,
             json={"id": "publicpost00001", "collectionName": "posts", "collectionId": ANY, "views": 10,
                   "labels": [], "meta": None, "loc": {"lon": 0, "lat": 0}, "created": ANY},
             absent=("secret", "expand")),
    Scenario("a draft is a 404 for others", "GET", "/api/collections/posts/records/draftpost000001", 404, auth="user2"),
    Scenario("a draft is visible to its author", "GET", "/api/collections/posts/records/draftpost000001", 200, auth="user"),
    Scenario("an unknown id is a 404", "GET", "/api/collections/posts/records/nope", 404,
             json={"message": "The requested resource wasn't found."}),
    Scenario("a collection is found by id too", "GET", "/api/collections/tags/records?fields=name&perPage=1", 200),
]


@pytest.mark.parametrize("scenario", VIEW, ids=lambda s: s.name)
async def test_view(api, tokens, seeded, scenario):
    await run(scenario, api, tokens)


async def test_create_update_delete_as_an_owner(api, tokens, seeded, spy):
    ada = seeded["ada"]
    user = {"Authorization": tokens["user"]}
    created = await api.post("/api/collections/posts/records", headers=user, json={
        "title": "New", "author": ada["id"], "views": "12", "published": 1, "labels": ["a", "a", "b"],
        "unknown": "ignored", "collectionName": "x", "meta": {"k": [1, 2]}, "secret": "dropped"})
    assert created.status_code == 200, created.text
    record = created.json
    contains(record, {"title": "New", "views": 12, "published": True, "labels": ["a", "b"], "meta": {"k": [1, 2]}})
    assert len(record["id"]) == 15 and record["created"].endswith("Z")
    assert "unknown" not in record and "secret" not in record
    assert spy.count("record_create") == 1 and spy.count("record_after_create_success") == 1

    url = f"/api/collections/posts/records/{record['id']}"
    updated = await api.patch(url, headers=user, json={"views+": 5, "labels+": "c", "labels-": ["a"], "title": "Renamed"})
    assert updated.status_code == 200, updated.text
    contains(updated.json, {"views": 17, "labels": ["b", "c"], "title": "Renamed"})
    assert updated.json["updated"] >= record["updated"]

    assert (await api.patch(url, headers={"Authorization": tokens["user2"]}, json={"title": "x"})).status_code == 404
    assert (await api.delete(url, headers={"Authorization": tokens["user2"]})).status_code == 404
    deleted = await api.delete(url, headers=user)
    assert deleted.status_code == 204
    assert (await api.get(url, headers=user)).status_code == 404


WRITE_ERRORS = [
    Scenario("guests cannot create under an auth-only rule", "POST", "/api/collections/posts/records", 400,
             body={"title": "x"}, json={"message": "Failed to create record.", "data": {}}),
    Scenario("validation errors name the field and code", "POST", "/api/collections/posts/records", 400, auth="superuser",
             body={"title": "x" * 101, "category": "nope", "contact": "not-an-email"},
             json={"message": "Failed to create record.", "data": {
                 "title": {"code": "validation_max_text_constraint", "params": {"max": 100}},
                 "category": {"code": "validation_invalid_value", "params": {"value": "nope"}},
                 "contact": {"code": "validation_is_email"}}}),
    Scenario("relations must exist", "POST", "/api/collections/posts/records", 400, auth="superuser",
             body={"title": "x", "tags": ["nope"]}, json={"data": {"tags": {"code": "validation_missing_rel_records"}}}),
    Scenario("required fields are required", "POST", "/api/collections/tags/records", 400, body={},
             json={"data": {"name": {"code": "validation_required", "message": "Cannot be blank."}}}),
    Scenario("unique indexes report the field", "POST", "/api/collections/tags/records", 400, body={"name": "alpha"},
             json={"data": {"name": {"code": "validation_not_unique"}}}),
    Scenario("malformed JSON is a 400", "POST", "/api/collections/tags/records", 400, body=None),
    Scenario("a bad client id is refused", "POST", "/api/collections/tags/records", 400, body={"id": "BAD ID", "name": "z"},
             json={"data": {"id": {"code": ANY}}}),
    Scenario("the primary key cannot change", "PATCH", "/api/collections/tags/records/ALPHA", 400,
             auth="superuser", body={"id": "otherid00000001"}, json={"data": {"id": {"code": "validation_pk_change"}}}),
    Scenario("a locked collection refuses guests before anything else", "POST", "/api/collections/notes/records", 403,
             body={"nonsense": 1}),
]


@pytest.mark.parametrize("scenario", WRITE_ERRORS, ids=lambda s: s.name)
async def test_write_errors(api, tokens, seeded, scenario):
    scenario.url = scenario.url.replace("ALPHA", seeded["alpha"]["id"])
    if scenario.name == "malformed JSON is a 400":
        result = await api.simulate_post(scenario.url, body=b"{bad", headers={"Content-Type": "application/json"})
        assert result.status_code == 400
        assert result.json == {"data": {}, "message": "Something went wrong while processing your request.", "status": 400}
        return
    await run(scenario, api, tokens)


async def test_deleting_a_record_removes_it_from_optional_relations_and_cascades(api, tokens, seeded, store):
    su = {"Authorization": tokens["superuser"]}
    alpha = seeded["alpha"]["id"]
    assert (await api.delete(f"/api/collections/tags/records/{alpha}", headers=su)).status_code == 204
    post = await store.get(store.collection("posts"), "publicpost00001")
    assert post["tags"] == [seeded["beta"]["id"]]
    assert (await api.delete("/api/collections/posts/records/publicpost00001", headers=su)).status_code == 204
    comments = await api.get("/api/collections/comments/records")
    assert comments.json["totalItems"] == 0


async def test_a_required_reference_blocks_the_delete_and_nothing_changes(api, tokens, seeded, store):
    su = {"Authorization": tokens["superuser"]}
    await store.create(store.collection("notes"), {"post": "draftpost000001", "text": "keep"})
    result = await api.delete("/api/collections/posts/records/draftpost000001", headers=su)
    assert result.status_code == 400
    assert result.json["message"] == (
        "Failed to delete record. Make sure that the record is not part of a required relation reference."
    )
    assert await store.get(store.collection("posts"), "draftpost000001") is not None


async def test_concurrent_increments_are_never_lost(api, tokens, seeded):
    su = {"Authorization": tokens["superuser"]}
    url = "/api/collections/posts/records/publicpost00001"
    results = await asyncio.gather(*[api.patch(url, headers=su, json={"score+": 1}) for _ in range(16)])
    assert all(r.status_code == 200 for r in results)
    assert (await api.get(url)).json["score"] == 16


async def test_multipart_bodies_with_json_payload(api, tokens, seeded):
    boundary = "pbkboundary"
    parts = [
        ("name", "multi"),
        ("@jsonPayload", '{"extra": 1}'),
    ]
    body = "".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n' for k, v in parts
    ) + f"--{boundary}--\r\n"
    result = await api.simulate_post(
        "/api/collections/tags/records",
        body=body.encode(),
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert result.status_code == 200, result.text
    assert result.json["name"] == "multi"


async def test_unsupported_content_type_is_refused(api, seeded):
    result = await api.simulate_post(
        "/api/collections/tags/records", body=b"name=x", headers={"Content-Type": "text/plain"}
    )
    assert result.status_code == 400
    assert result.json["message"] == "Unsupported Content-Type."


async def test_batch_is_refused_until_enabled(api, tokens, seeded):
    result = await api.post("/api/batch", json={"requests": [{"method": "POST", "url": "/api/collections/tags/records", "body": {"name": "x"}}]})
    assert result.status_code == 403
    assert result.json["message"] == "Batch requests are not allowed."


async def test_batch_writes_all_or_nothing(api, tokens, seeded, pbk_app, store):
    await pbk_app.settings.update({"batch": {"enabled": True, "maxRequests": 3}})
    su = {"Authorization": tokens["superuser"]}
    ok = await api.post("/api/batch", headers=su, json={"requests": [
        {"method": "POST", "url": "/api/collections/tags/records", "body": {"name": "b1"}},
        {"method": "PUT", "url": "/api/collections/tags/records", "body": {"id": "batchupsert0001", "name": "b2"}},
        {"method": "PATCH", "url": "/api/collections/tags/records/batchupsert0001?fields=id,name", "body": {"name": "b2x"}},
    ]})
    assert ok.status_code == 200, ok.text
    assert [r["status"] for r in ok.json] == [200, 200, 200]
    assert ok.json[2]["body"] == {"id": "batchupsert0001", "name": "b2x"}

    failed = await api.post("/api/batch", json={"requests": [
        {"method": "POST", "url": "/api/collections/tags/records", "body": {"name": "kept-out"}},
        {"method": "POST", "url": "/api/collections/tags/records", "body": {}},
    ]})
    assert failed.status_code == 400
    assert failed.json["message"] == "Batch transaction failed."
    detail = failed.json["data"]["requests"]["1"]
    assert detail["code"] == "batch_request_failed"
    assert detail["response"]["data"]["name"]["code"] == "validation_required"
    assert await store.find(store.collection("tags"), "name", "kept-out") is None

    too_many = await api.post("/api/batch", json={"requests": [{"method": "DELETE", "url": "/api/collections/tags/records/x"}] * 4})
    assert too_many.status_code == 400
    assert too_many.json["data"]["requests"]["code"] == "validation_length_too_long"

    ruled = await api.post("/api/batch", json={"requests": [
        {"method": "DELETE", "url": "/api/collections/posts/records/publicpost00001"}]})
    assert ruled.status_code == 400, "each request is checked against its collection's rules"
    assert ruled.json["data"]["requests"]["0"]["response"]["status"] == 404


async def test_every_modifier_applies_to_the_stored_value(api, tokens, seeded):
    su = {"Authorization": tokens["superuser"]}
    url = "/api/collections/posts/records/publicpost00001"
    alpha, beta = seeded["alpha"]["id"], seeded["beta"]["id"]
    steps = [
        ({"views-": 3}, {"views": 7}),
        ({"views+": "5"}, {"views": 12}),
        ({"labels": ["b"]}, {"labels": ["b"]}),
        ({"+labels": ["a"]}, {"labels": ["a", "b"]}),
        ({"labels+": ["c", "a"]}, {"labels": ["a", "b", "c"]}),
        ({"labels-": "b"}, {"labels": ["a", "c"]}),
        ({"tags-": alpha}, {"tags": [beta]}),
        ({"+tags": alpha}, {"tags": [alpha, beta]}),
        ({"tags": []}, {"tags": []}),
        ({"category": ["news", "blog"]}, {"category": "blog"}),
        ({"published": "false", "meta": None, "loc": {"lon": 23.32, "lat": 42.69}}, {"published": False, "meta": None, "loc": {"lon": 23.32, "lat": 42.69}}),
        ({"when": "2024-01-02T03:04:05.678+02:00"}, {"when": "2024-01-02 01:04:05.678Z"}),
    ]
    for body, expected in steps:
        result = await api.patch(url, headers=su, json=body)
        assert result.status_code == 200, (body, result.text)
        contains(result.json, expected)


SORTS = [
    Scenario("sort by several fields", "GET", "/api/collections/posts/records?sort=-published,title&fields=title", 200,
             auth="superuser", json={"items": [{"title": "Hello World"}, {"title": "Bob's"}, {"title": "Draft"}]}),
    Scenario("sort by insertion order", "GET", "/api/collections/posts/records?sort=-@rowid&fields=id", 200,
             auth="superuser", json={"items": [{"id": "bobspost0000001"}, {"id": "draftpost000001"}, {"id": "publicpost00001"}]}),
    Scenario("sort at random still lists everything", "GET", "/api/collections/posts/records?sort=@random", 200,
             auth="superuser", json={"totalItems": 3}),
    Scenario("sort through a relation", "GET", "/api/collections/comments/records?sort=post.title&fields=message", 200,
             json={"items": [{"message": "first"}]}),
    Scenario("fields=* keeps every key", "GET", "/api/collections/tags/records?fields=*&sort=name", 200,
             json={"items": [{"id": ANY, "name": "alpha", "collectionId": ANY, "collectionName": "tags"}, ANY]}),
]


@pytest.mark.parametrize("scenario", SORTS, ids=lambda s: s.name)
async def test_sort_and_fields(api, tokens, seeded, scenario):
    await run(scenario, api, tokens)


EVENTS = [
    Scenario("a list fires its request event and an enrich per record", "GET",
             "/api/collections/tags/records?perPage=1", 200,
             events={"records_list_request": 1, "record_enrich": 1, "*": 0}),
    Scenario("a create fires the write events in order", "POST", "/api/collections/tags/records", 200,
             body={"name": "evented"},
             events={"record_create_request": 1, "record_before_write": 1, "record_validate": 1,
                     "record_create": 1, "record_after_create_success": 1, "record_enrich": 1, "*": 0}),
    Scenario("a failed create fires no success event", "POST", "/api/collections/tags/records", 400, body={},
             events={"record_create_request": 1, "record_before_write": 1, "record_validate": 1,
                     "record_after_create_error": 1, "*": 0}),
]


@pytest.mark.parametrize("scenario", EVENTS, ids=lambda s: s.name)
async def test_events(api, tokens, seeded, spy, scenario):
    await run(scenario, api, tokens, spy)


async def test_back_relations_expand_at_most_1000_per_record(api, tokens, seeded, pbk_app):
    post_id = "publicpost00001"

    def many_comments(conn):
        conn.execute("DELETE FROM comments")
        conn.executemany(
            "INSERT INTO comments (id, post, message) VALUES (?, ?, ?)",
            [(f"c{n:014d}", post_id, f"m{n}") for n in range(1200)],
        )

    await pbk_app.db.write(many_comments)
    result = await api.get(f"/api/collections/posts/records/{post_id}?expand=comments_via_post&fields=expand.comments_via_post.message")
    assert result.status_code == 200
    messages = [c["message"] for c in result.json["expand"]["comments_via_post"]]
    assert len(messages) == 1000 and messages[:2] == ["m0", "m1"]


@pytest.mark.parametrize("page", ["99999999999999999999", "-99999999999999999999"])
async def test_page_numbers_past_64_bits_are_a_400(api, tokens, seeded, page):
    result = await api.get(f"/api/collections/tags/records?page={page}")
    assert result.status_code == 400


async def test_a_page_past_any_table_is_empty(api, tokens, seeded):
    result = await api.get("/api/collections/tags/records?page=9223372036854775807&perPage=1000")
    assert result.status_code == 200 and result.json["items"] == []
