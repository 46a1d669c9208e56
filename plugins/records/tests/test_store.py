"""``RecordStore.list``/``count``: the filter language for other plugins, values bound."""

from __future__ import annotations

from typing import Any

import pytest
import pytest_asyncio
from pbk_sdk.auth import RequestAuth
from pbk_sdk.errors import ApiError

BAD_REQUEST = "Something went wrong while processing your request."

TASKS = {
    "name": "tasks",
    "type": "base",
    "listRule": "owner = @request.auth.id",
    "fields": [
        {"name": "title", "type": "text"},
        {"name": "rank", "type": "number"},
        {"name": "done", "type": "bool"},
        {"name": "note", "type": "text", "hidden": True},
        {"name": "owner", "type": "relation", "collectionId": "_pb_users_auth_", "maxSelect": 1},
    ],
}


@pytest_asyncio.fixture
async def tasks(api: Any, tokens: dict[str, str], store: Any) -> dict[str, Any]:
    """``tasks``: five records, the first three Ada's; ``ada`` is her ``RequestAuth``."""
    result = await api.post("/api/collections", json=TASKS, headers={"Authorization": tokens["superuser"]})
    assert result.status_code == 200, result.json
    users = store.collection("users")
    ada = await store.find(users, "email", "ada@example.com")
    bob = await store.find(users, "email", "bob@example.com")
    collection = store.collection("tasks")
    rows = [
        ("write", 3, False, ada), ('say "hi"', 1, True, ada), ("{:rank}", 2, False, ada),
        ("read", 5, True, bob), ("", 4, False, bob),
    ]
    for title, rank, done, owner in rows:
        await store.create(collection, {"title": title, "rank": rank, "done": done, "note": f"n{rank}", "owner": owner["id"]})
    return {"collection": collection, "ada": RequestAuth(record=ada, collection_id=users.id, collection_name="users")}


def titles(records: list[dict[str, Any]]) -> list[str]:
    return [record["title"] for record in records]


async def test_list_filters_sorts_and_pages(store, tasks):
    collection = tasks["collection"]
    assert titles(await store.list(collection)) == ["write", 'say "hi"', "{:rank}", "read", ""]
    assert titles(await store.list(collection, filter="rank >= 3", sort="-rank")) == ["read", "", "write"]
    assert titles(await store.list(collection, sort="rank", limit=2, offset=1)) == ["{:rank}", "write"]
    assert titles(await store.list(collection, filter="done = true && title ~ 'hi'")) == ['say "hi"']


async def test_list_returns_stored_values_hidden_fields_included(store, tasks):
    [record] = await store.list(tasks["collection"], filter="note = 'n3'")
    assert (record["title"], record["rank"], record["done"], record["note"]) == ("write", 3, False, "n3")


async def test_placeholders_are_bound_as_values(store, tasks):
    collection = tasks["collection"]
    found = await store.list(collection, filter="title = {:title}", params={"title": 'say "hi"'})
    assert titles(found) == ['say "hi"']
    # a value cannot escape its literal, nor be read as another placeholder
    escape = {"title": 'x" || title != "', "rank": 2}
    assert await store.list(collection, filter="title = {:title}", params=escape) == []
    found = await store.list(collection, filter="title = {:title}", params={"title": "{:rank}", "rank": 2})
    assert titles(found) == ["{:rank}"]
    found = await store.list(collection, filter="rank > {:min} && done = {:done}", params={"min": 1.5, "done": False})
    assert titles(found) == ["write", "{:rank}", ""]
    assert titles(await store.list(collection, filter="title = {:t}", params={"t": ""})) == [""]
    assert titles(await store.list(collection, filter="owner != {:none}", params={"none": None})) == titles(
        await store.list(collection)
    )


async def test_a_placeholder_inside_quotes_is_text_and_cannot_widen_a_match(store, tasks):
    collection = tasks["collection"]
    wide = {"t": " || id != "}
    assert await store.list(collection, filter='title = "{:t}"', params=wide) == []
    assert titles(await store.list(collection, filter="title = '{:rank}'", params={"rank": 3})) == ["{:rank}"]


@pytest.mark.parametrize("title", ["a\u00a0b", "nul\x00byte", "emoji \U0001f600", "tab\tand\\slash", "bell\x07"])
async def test_placeholder_values_match_exactly(store, tasks, title, pbk_app):
    collection = tasks["collection"]
    if "\x00" in title and pbk_app.db.engine != "sqlite":
        with pytest.raises(ApiError):  # PostgreSQL's text holds no NUL: a validation error
            await store.create(collection, {"title": title, "rank": 9})
        return
    record = await store.create(collection, {"title": title, "rank": 9})
    found = await store.list(collection, filter="title = {:t}", params={"t": title})
    assert [r["id"] for r in found] == [record["id"]]
    assert await store.count(collection, filter="title = {:t}", params={"t": title[:-1]}) == 0


async def test_placeholder_numbers_and_null(store, tasks):
    collection = tasks["collection"]
    assert titles(await store.list(collection, filter="rank = {:n}", params={"n": 3})) == ["write"]
    assert titles(await store.list(collection, filter="rank = {:n}", params={"n": 3.0})) == ["write"]
    assert titles(await store.list(collection, filter="rank > {:n}", params={"n": 2**70})) == []
    assert await store.list(collection, filter="rank = {:n}", params={"n": float("nan")}) == []
    assert titles(await store.list(collection, filter="title = {:none}", params={"none": None})) == [""]
    assert titles(await store.list(collection, filter="done = {:yes}", params={"yes": True})) == ['say "hi"', "read"]


async def test_a_placeholder_without_a_value_is_400(store, tasks):
    for params in (None, {"other": 1}):
        with pytest.raises(ApiError) as raised:
            await store.list(tasks["collection"], filter="title = {:t}", params=params)
        assert raised.value.status == 400


async def test_a_rule_cannot_use_the_callers_placeholders(api, tokens, store, tasks):
    rule = {"listRule": "title = {:t}"}
    result = await api.patch("/api/collections/tasks", json=rule, headers={"Authorization": tokens["superuser"]})
    assert result.status_code == 400


async def test_list_and_count_on_a_view_collection(api, tokens, store, tasks):
    view = {"name": "ranks", "type": "view", "viewQuery": "SELECT id, title, rank FROM tasks"}
    result = await api.post("/api/collections", json=view, headers={"Authorization": tokens["superuser"]})
    assert result.status_code == 200, result.json
    ranks = store.collection("ranks")
    assert sorted(titles(await store.list(ranks))) == sorted(["write", 'say "hi"', "{:rank}", "read", ""])
    assert titles(await store.list(ranks, sort="-rank", limit=2)) == ["read", ""]
    assert titles(await store.list(ranks, filter="rank < {:n}", params={"n": 2})) == ['say "hi"']
    assert await store.count(ranks, filter="rank >= 3") == 3


async def test_count_keeps_counting_all_and_takes_a_filter(store, tasks):
    collection = tasks["collection"]
    assert await store.count(collection) == 5
    assert await store.count(collection, filter="done = true") == 2
    assert await store.count(collection, filter="rank < {:max}", params={"max": 3}) == 2


async def test_find_all_is_list_of_equal_fields(store, tasks):
    collection = tasks["collection"]
    assert titles(await store.find_all(collection, {"done": False}, sort="-rank")) == ["", "write", "{:rank}"]
    with pytest.raises(ValueError):
        await store.find_all(collection, {"nosuch": 1})


@pytest.mark.parametrize(
    ("filter_", "sort"),
    [("rank >", ""), ("nosuch = 1", ""), ("title = {:missing}", ""), ("", "nosuch"), ("", "-rank,")],
)
async def test_a_bad_filter_or_sort_is_pocketbase_400(store, tasks, filter_, sort):
    with pytest.raises(ApiError) as raised:
        await store.list(tasks["collection"], filter=filter_, sort=sort)
    assert (raised.value.status, raised.value.message) == (400, BAD_REQUEST)


async def test_with_auth_the_list_rule_and_client_filter_rules_apply(store, tasks):
    collection, ada = tasks["collection"], tasks["ada"]
    assert titles(await store.list(collection, auth=ada)) == ["write", 'say "hi"', "{:rank}"]
    assert await store.count(collection, filter="rank > 1", auth=ada) == 2
    with pytest.raises(ApiError) as raised:  # a hidden field is unknown to a client's filter
        await store.list(collection, filter="note = 'n3'", auth=ada)
    assert raised.value.status == 400
    with pytest.raises(ApiError) as raised:
        await store.list(collection, filter="@request.auth.id != ''", auth=ada)
    assert raised.value.status == 403


async def test_with_auth_a_superusers_only_collection_is_refused(store, tasks):
    users = store.collection("_superusers")
    with pytest.raises(ApiError) as raised:
        await store.list(users, auth=tasks["ada"])
    assert raised.value.status == 403
    assert await store.count(users) == 1
