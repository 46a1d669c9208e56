"""Values a handler sets on ``e.record`` are converted by field type (PocketBase's
``Record.Set``), validated, hashed (a password) and checked (a relation) before the row is
written, so the answer, the stored row and a later GET agree; a value set after the write
(after ``next()`` in ``record_create``/``record_update``) is only answered."""

from __future__ import annotations

from typing import Any

import pytest
import pytest_asyncio
from pbk_sdk import events as ev
from pbk_sdk.errors import ApiError

ITEMS = {
    "name": "items",
    "type": "base",
    "listRule": "",
    "viewRule": "",
    "createRule": "",
    "updateRule": "",
    "fields": [
        {"name": "title", "type": "text"},
        {"name": "count", "type": "number"},
        {"name": "flag", "type": "bool"},
        {"name": "labels", "type": "select", "values": ["a", "b", "c"], "maxSelect": 3},
        {"name": "data", "type": "json"},
    ],
}

#: What a handler assigns, and what PocketBase's field types make of it.
ASSIGNED = {"count": "stamped", "flag": "true", "labels": ["b", "b", "a"]}
CONVERTED = {"count": 0, "flag": True, "labels": ["b", "a"]}
USER_PASSWORD = "ada-password"  # (conftest.USERS)


@pytest_asyncio.fixture
async def items(api: Any, tokens: dict[str, str]) -> dict[str, str]:
    su = {"Authorization": tokens["superuser"]}
    result = await api.post("/api/collections", json=ITEMS, headers=su)
    assert result.status_code == 200, result.json
    return su


def assign(values: dict[str, Any]) -> Any:
    async def handler(e: Any) -> None:
        e.record.update(values)
        await e.next()

    return handler


async def agreed(api: Any, store: Any, su: dict[str, str], answer: dict[str, Any]) -> dict[str, Any]:
    """The answer's values, once checked equal to the stored row and to a GET."""
    stored = await store.get(store.collection("items"), answer["id"])
    fetched = (await api.get(f"/api/collections/items/records/{answer['id']}", headers=su)).json
    shown = {name: answer[name] for name in ("title", "count", "flag", "labels", "data")}
    assert {name: stored[name] for name in shown} == shown
    assert {name: fetched[name] for name in shown} == shown
    return shown


async def create_item_while(pbk_app: Any, api: Any, headers: Any, event: str, handler: Any) -> Any:
    """POST a new item while ``handler`` listens to ``event`` on the items collection."""
    subscription = pbk_app.events.on(event, handler, collections=["items"])
    try:
        return await api.post("/api/collections/items/records", json={"title": "t"}, headers=headers)
    finally:
        subscription.remove()


@pytest.mark.parametrize("event", [ev.RECORD_VALIDATE, ev.RECORD_CREATE])
async def test_values_set_on_create_are_stored_and_answered_converted(api, store, items, pbk_app, event):
    result = await create_item_while(pbk_app, api, items, event, assign(ASSIGNED))
    assert result.status_code == 200, result.json
    shown = await agreed(api, store, items, result.json)
    assert shown == {"title": "t", **CONVERTED, "data": None}


@pytest.mark.parametrize("event", [ev.RECORD_VALIDATE, ev.RECORD_UPDATE])
async def test_values_set_on_update_are_stored_and_answered_converted(api, store, items, pbk_app, event):
    created = await api.post(
        "/api/collections/items/records", json={"title": "t", "count": 5, "labels": ["c"]}, headers=items
    )
    subscription = pbk_app.events.on(event, assign({**ASSIGNED, "count": "12.5"}), collections=["items"])
    try:
        result = await api.patch(
            f"/api/collections/items/records/{created.json['id']}", json={"title": "u"}, headers=items
        )
    finally:
        subscription.remove()
    assert result.status_code == 200, result.json
    shown = await agreed(api, store, items, result.json)
    assert shown == {"title": "u", **CONVERTED, "count": 12.5, "data": None}


async def test_a_request_handler_changing_the_body_gets_the_stored_values(api, store, items, pbk_app):
    async def stamp(e: Any) -> None:
        e.body["count"] = "stamped"
        e.body["flag"] = 1
        await e.next()

    result = await create_item_while(pbk_app, api, items, ev.RECORD_CREATE_REQUEST, stamp)
    assert result.status_code == 200, result.json
    shown = await agreed(api, store, items, result.json)
    assert (shown["count"], shown["flag"]) == (0, True)


async def test_a_json_value_left_alone_is_not_converted_twice(api, store, items, pbk_app):
    created = await api.post("/api/collections/items/records", json={"data": '"true"'}, headers=items)
    assert created.json["data"] == "true"  # the JSON string "true", not the boolean
    subscription = pbk_app.events.on(ev.RECORD_UPDATE, assign({"count": "3"}), collections=["items"])
    try:
        result = await api.patch(f"/api/collections/items/records/{created.json['id']}", json={}, headers=items)
    finally:
        subscription.remove()
    shown = await agreed(api, store, items, result.json)
    assert (shown["data"], shown["count"]) == ("true", 3)


async def test_a_value_set_by_a_handler_is_validated(api, store, items, pbk_app):
    result = await create_item_while(pbk_app, api, items, ev.RECORD_CREATE, assign({"labels": ["a", "zzz"]}))
    assert result.status_code == 400
    assert result.json["message"] == "Failed to create record."
    assert result.json["data"]["labels"]["code"] == "validation_invalid_value"
    assert await store.count(store.collection("items")) == 0


async def test_a_value_set_after_next_is_answered_converted(api, store, items, pbk_app):
    async def late(e: Any) -> None:
        await e.next()
        e.record["count"] = "7"

    result = await create_item_while(pbk_app, api, items, ev.RECORD_CREATE, late)
    assert result.json["count"] == 7
    # the row was written by next(): the late value is answered, not stored
    assert (await store.get(store.collection("items"), result.json["id"]))["count"] == 0


def late(values: dict[str, Any]) -> Any:
    async def handler(e: Any) -> None:
        await e.next()
        e.record.update(values)

    return handler


async def test_a_value_set_after_next_in_validate_is_converted_and_stored(api, store, items, pbk_app):
    result = await create_item_while(pbk_app, api, items, ev.RECORD_VALIDATE, late({"count": "9", "flag": "1"}))
    assert result.status_code == 200, result.json
    shown = await agreed(api, store, items, result.json)
    assert (shown["count"], shown["flag"]) == (9, True)


@pytest.mark.parametrize("event", [ev.RECORD_VALIDATE, ev.RECORD_CREATE])
async def test_an_invalid_value_set_after_validation_is_refused(api, store, items, pbk_app, event):
    # set after next() in record_validate, or before next() in record_create: both precede the write
    handler = late({"labels": ["zzz"]}) if event == ev.RECORD_VALIDATE else assign({"labels": ["zzz"]})
    result = await create_item_while(pbk_app, api, items, event, handler)
    assert result.status_code == 400
    assert result.json["data"]["labels"]["code"] == "validation_invalid_value"
    assert await store.count(store.collection("items")) == 0


async def sign_in(api: Any, email: str, password: str) -> int:
    result = await api.post("/api/collections/users/auth-with-password", json={"identity": email, "password": password})
    return int(result.status_code)


@pytest.mark.parametrize("event", [ev.RECORD_VALIDATE, ev.RECORD_UPDATE])
async def test_a_password_set_by_a_handler_is_hashed(api, store, tokens, pbk_app, event):
    users = store.collection("users")
    ada = await store.find(users, "email", "ada@example.com")
    subscription = pbk_app.events.on(event, assign({"password": "a-new-secret"}), collections=["users"])
    try:
        await store.update(users, ada["id"], {"name": "Ada"})
    finally:
        subscription.remove()
    stored = await store.get(users, ada["id"])
    assert stored["password"] != "a-new-secret"
    assert stored["tokenKey"] != ada["tokenKey"]
    assert await sign_in(api, "ada@example.com", "a-new-secret") == 200
    assert await sign_in(api, "ada@example.com", USER_PASSWORD) == 400


async def test_an_invalid_password_set_by_a_handler_is_refused(api, store, tokens, pbk_app):
    users = store.collection("users")
    ada = await store.find(users, "email", "ada@example.com")
    subscription = pbk_app.events.on(ev.RECORD_UPDATE, assign({"password": "x" * 80}), collections=["users"])
    try:
        with pytest.raises(ApiError) as raised:
            await store.update(users, ada["id"], {"name": "Ada"})
    finally:
        subscription.remove()
    assert raised.value.status == 400
    assert await sign_in(api, "ada@example.com", USER_PASSWORD) == 200


async def test_relation_ids_set_by_a_handler_are_checked(api, store, tokens, items, pbk_app):
    notes = {"name": "notes", "type": "base", "fields": [
        {"name": "item", "type": "relation", "collectionId": store.collection("items").id, "maxSelect": 1},
    ]}
    result = await api.post("/api/collections", json=notes, headers=items)
    assert result.status_code == 200, result.json
    item = await store.create(store.collection("items"), {"title": "t"})
    collection = store.collection("notes")
    subscription = pbk_app.events.on(ev.RECORD_CREATE, assign({"item": "nosuchrecord123"}), collections=["notes"])
    try:
        with pytest.raises(ApiError) as raised:
            await store.create(collection, {"item": item["id"]})
    finally:
        subscription.remove()
    assert raised.value.status == 400
    assert raised.value.data["item"]["code"] == "validation_missing_rel_records"
    assert await store.count(collection) == 0
    subscription = pbk_app.events.on(ev.RECORD_UPDATE, assign({"item": item["id"]}), collections=["notes"])
    try:
        note = await store.create(collection, {})
        await store.update(collection, note["id"], {})
    finally:
        subscription.remove()
    assert (await store.get(collection, note["id"]))["item"] == item["id"]
