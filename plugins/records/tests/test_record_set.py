"""Values a handler sets on ``e.record`` are converted by field type (PocketBase's
``Record.Set``), so the answer, the stored row and a later GET agree."""

from __future__ import annotations

from typing import Any

import pytest
import pytest_asyncio
from pbk_sdk import events as ev

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


@pytest.mark.parametrize("event", [ev.RECORD_VALIDATE, ev.RECORD_CREATE])
async def test_values_set_on_create_are_stored_and_answered_converted(api, store, items, pbk_app, event):
    subscription = pbk_app.events.on(event, assign(ASSIGNED), collections=["items"])
    try:
        result = await api.post("/api/collections/items/records", json={"title": "t"}, headers=items)
    finally:
        subscription.remove()
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

    subscription = pbk_app.events.on(ev.RECORD_CREATE_REQUEST, stamp, collections=["items"])
    try:
        result = await api.post("/api/collections/items/records", json={"title": "t"}, headers=items)
    finally:
        subscription.remove()
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
    subscription = pbk_app.events.on(ev.RECORD_CREATE, assign({"labels": ["a", "zzz"]}), collections=["items"])
    try:
        result = await api.post("/api/collections/items/records", json={"title": "t"}, headers=items)
    finally:
        subscription.remove()
    assert result.status_code == 400
    assert result.json["message"] == "Failed to create record."
    assert result.json["data"]["labels"]["code"] == "validation_invalid_value"
    assert await store.count(store.collection("items")) == 0


async def test_a_value_set_after_next_is_answered_converted(api, items, pbk_app):
    async def late(e: Any) -> None:
        await e.next()
        e.record["count"] = "7"

    subscription = pbk_app.events.on(ev.RECORD_CREATE, late, collections=["items"])
    try:
        result = await api.post("/api/collections/items/records", json={"title": "t"}, headers=items)
    finally:
        subscription.remove()
    assert result.json["count"] == 7
