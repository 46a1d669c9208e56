"""Collection field errors name the field by its position in PocketBase's final field list.

PocketBase puts a missing ``id`` field first, appends the auth system fields a list lacks, and
lets a later field with an earlier one's id (or, sent without id, its name) take that place.
The same collection requests go to a live pbk and to the real PocketBase 0.40.6, and their
answers (the ``fields`` error, or the stored field names) must be the same.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from pbk_sdk.testing import pocketbase_and_pbk

pytestmark = pytest.mark.slow

Body = Callable[[httpx.Client], dict[str, Any]]
BAD = {"name": "bad", "type": "number", "min": 5, "max": 1}
ID_FIELD = {
    "name": "id", "type": "text", "primaryKey": True, "required": True, "system": True,
    "pattern": "^[a-z0-9]+$", "min": 15, "max": 15, "autogeneratePattern": "[a-z0-9]{15}",
}
STARTING = [
    {"name": "plain", "type": "base", "fields": [{"name": "a", "type": "text"}]},
    {"name": "people", "type": "auth", "fields": [{"name": "a", "type": "text"}]},
    {"name": "plain_view", "type": "view", "viewQuery": "select id, a from plain"},
]


@pytest.fixture(scope="module")
def clients(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[httpx.Client]]:
    """A pbk client and a PocketBase client, both with the ``STARTING`` collections."""
    with pocketbase_and_pbk(tmp_path_factory.mktemp("pair"), ["records", "auth"], ["--workers", "1"],
                            programs=["pbk", "pocketbase"]) as programs:
        both = [program.client for program in programs]
        for client in both:
            for collection in STARTING:
                assert client.post("/api/collections", json=collection).status_code == 200
        yield both


def stored(client: httpx.Client, collection: str, name: str | None = None) -> Any:
    """The stored fields of ``collection``, or the one called ``name``."""
    fields = client.get(f"/api/collections/{collection}").json()["fields"]
    return fields if name is None else next(f for f in fields if f["name"] == name)


def outcome(response: httpx.Response) -> tuple[int, Any]:
    body = response.json()
    if response.status_code != 200:
        return response.status_code, body["data"].get("fields")
    return response.status_code, [(f["name"], f.get("min"), f.get("exceptDomains")) for f in body["fields"]]


NEW = {
    "base": {"name": "n1", "type": "base", "fields": [{"name": "a", "type": "text"}, BAD]},
    "base-with-id": {"name": "n2", "type": "base", "fields": [ID_FIELD, {"name": "a", "type": "text"}, BAD]},
    "auth": {"name": "n3", "type": "auth", "fields": [{"name": "a", "type": "text"}, BAD]},
    "auth-with-email": {"name": "n4", "type": "auth", "fields": [
        {"name": "email", "type": "email", "required": True, "system": True}, {"name": "a", "type": "text"}, BAD]},
    "view": {"name": "n5", "type": "view", "viewQuery": "select id from plain", "fields": [BAD]},
    "same-name": {"name": "n6", "type": "base", "fields": [
        {"name": "a", "type": "text"}, {"name": "a", "type": "text"}, BAD]},
    "same-name-ids": {"name": "n7", "type": "base", "fields": [
        {"name": "a", "type": "text", "id": "x1"}, {"name": "a", "type": "text", "id": "x2"}, BAD]},
    "same-id": {"name": "n8", "type": "base", "fields": [
        {"name": "a", "type": "text", "id": "x1"}, {"name": "b", "type": "text", "id": "x1"}, BAD]},
    "auth-fine": {"name": "n9", "type": "auth", "fields": [{"name": "a", "type": "text"}]},
    "reserved": {"name": "n10", "type": "auth", "fields": [{"name": "oldPassword", "type": "text"}, BAD]},
}


@pytest.mark.parametrize("body", NEW.values(), ids=NEW.keys())
def test_a_new_collection_names_its_bad_field_as_pocketbase_does(clients: list[httpx.Client], body: dict[str, Any]) -> None:
    pbk, pocketbase = (outcome(client.post("/api/collections", json=body)) for client in clients)
    assert pbk == pocketbase


UPDATES: dict[str, tuple[str, Body]] = {
    "base-without-id": ("plain", lambda c: {"fields": [{"name": "a", "type": "text"}, BAD]}),
    "base-as-stored": ("plain", lambda c: {"fields": [*stored(c, "plain"), BAD]}),
    "type-change": ("plain", lambda c: {"fields": [{**stored(c, "plain", "a"), "type": "number"}, BAD]}),
    "id-renamed": ("plain", lambda c: {"fields": [{**stored(c, "plain", "id"), "name": "pk"}, BAD]}),
    "same-id": ("plain", lambda c: {"fields": [
        {"name": "x", "type": "text", "id": "same"}, {"name": "y", "type": "number", "id": "same"}, BAD]}),
    "auth-without-system": ("people", lambda c: {"fields": [{"name": "a", "type": "text"}, BAD]}),
    "auth-as-stored": ("people", lambda c: {"fields": [*stored(c, "people"), BAD]}),
    "reserved": ("people", lambda c: {"fields": [*stored(c, "people"), {"name": "passwordConfirm", "type": "text"}, BAD]}),
    "email-renamed": ("people", lambda c: {"fields": [{**stored(c, "people", "email"), "name": "mail"}]}),
    "view": ("plain_view", lambda c: {"fields": [BAD]}),
    "system-settings": ("people", lambda c: {"fields": [
        {**stored(c, "people", "email"), "exceptDomains": ["example.net"]}, {**stored(c, "people", "password"), "min": 10}]}),
}


@pytest.mark.parametrize(("collection", "body"), UPDATES.values(), ids=UPDATES.keys())
def test_an_updated_collection_names_its_bad_field_as_pocketbase_does(
    clients: list[httpx.Client], collection: str, body: Body
) -> None:
    pbk, pocketbase = (outcome(client.patch(f"/api/collections/{collection}", json=body(client))) for client in clients)
    assert pbk == pocketbase


def collection_id(client: httpx.Client, name: str) -> str:
    return client.get(f"/api/collections/{name}").json()["id"]


def test_a_relation_to_a_view_is_refused_unless_from_a_view(clients: list[httpx.Client]) -> None:
    def attempt(client: httpx.Client) -> tuple[int, Any]:
        relation = {"name": "rel", "type": "relation", "collectionId": collection_id(client, "plain_view")}
        return outcome(client.post("/api/collections", json={"name": "to_view", "type": "base", "fields": [relation]}))

    pbk, pocketbase = (attempt(client) for client in clients)
    assert pbk == pocketbase
    assert pbk[0] == 400 and pbk[1]["1"]["collectionId"]["code"] == "validation_relation_field_non_view_base_collection"


def test_a_relation_keeps_its_collection(clients: list[httpx.Client]) -> None:
    def attempt(client: httpx.Client) -> tuple[int, Any, Any]:
        relation = {"name": "rel", "type": "relation", "collectionId": collection_id(client, "plain")}
        made = client.post("/api/collections", json={"name": "keeps_target", "type": "base", "fields": [relation]})
        fields = made.json()["fields"]
        changed = [{**f, "collectionId": collection_id(client, "people")} if f["name"] == "rel" else f for f in fields]
        answer = client.patch("/api/collections/keeps_target", json={"fields": changed})
        return made.status_code, outcome(answer), stored(client, "keeps_target", "rel")["collectionId"] == relation["collectionId"]

    pbk, pocketbase = (attempt(client) for client in clients)
    assert pbk == pocketbase
    assert pbk[1][0] == 400 and pbk[2] is True
