"""The data set, seeded identically into each server through its HTTP API.

- ``users`` (PocketBase's auth collection): ``users`` accounts, default rules (own record only).
- ``posts``: title, body, views, published, author (relation to users), tags (multi select);
  public list and view rules. The read scenarios use it; nothing writes to it while measuring.
- ``notes``: the same fields under an owner rule (``author = @request.auth.id``), for the
  ``expand`` scenario with a user token.
- the write scenarios' collections, so writes never change the data the reads read; each has
  its one rule "signed in" (``@request.auth.id != ""``), the others superusers only:
  ``inbox`` (plain: two text fields, a number, autodates; create), ``linked`` (the ``posts``
  fields: a relation and a multi-select; create), ``uploads`` (a title and a file; create),
  ``items`` (title, body, views, score; update) and ``trash`` (title, views; delete; its rows
  are written per run by ``bench/bulk.py``).
- settings: ``batch`` enabled, up to 100 requests per batch (PocketBase's default is off).

Same definitions, same records (seeded ``random``), same order, for both programs.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field
from typing import Any

import httpx

from .servers import SUPERUSER

USERS_COLLECTION_ID = "_pb_users_auth_"
USER_PASSWORD = "bench-user-password-1"
TAGS = ["go", "python", "sqlite", "web", "db", "api", "rust", "js"]
WORDS = ["lorem", "ipsum", "dolor", "sit", "amet", "consectetur", "adipiscing", "elit", "sed", "do", "eiusmod", "tempor", "incididunt", "ut", "labore", "et", "dolore", "magna", "aliqua", "enim", "ad", "minim", "veniam", "quis", "nostrud", "exercitation", "ullamco", "laboris", "nisi", "aliquip", "ex", "ea", "commodo", "consequat"]


SIGNED_IN = '@request.auth.id != ""'
BATCH_SETTINGS = {"enabled": True, "maxRequests": 100, "timeout": 30, "maxBodySize": 0}
AUTODATES = [
    {"name": "created", "type": "autodate", "onCreate": True, "onUpdate": False},
    {"name": "updated", "type": "autodate", "onCreate": True, "onUpdate": True},
]
PLAIN_FIELDS = [{"name": "title", "type": "text", "max": 200}, {"name": "body", "type": "text"},
                {"name": "views", "type": "number", "onlyInt": True}, *AUTODATES]


def post_fields() -> list[dict[str, Any]]:
    return [
        {"name": "title", "type": "text", "required": True, "max": 200},
        {"name": "body", "type": "text"},
        {"name": "views", "type": "number", "onlyInt": True},
        {"name": "published", "type": "bool"},
        {"name": "author", "type": "relation", "collectionId": USERS_COLLECTION_ID, "maxSelect": 1},
        {"name": "tags", "type": "select", "maxSelect": len(TAGS), "values": TAGS},
        *AUTODATES,
    ]


def _writable(name: str, rule: str, fields: list[dict[str, Any]]) -> dict[str, Any]:
    """A collection the write scenarios use: ``rule`` (e.g. ``createRule``) is "signed in"."""
    rules = dict.fromkeys(("listRule", "viewRule", "createRule", "updateRule", "deleteRule"))
    return {"name": name, "type": "base", "fields": fields, **rules, rule: SIGNED_IN}


def write_collections() -> list[dict[str, Any]]:
    upload = {"name": "doc", "type": "file", "maxSelect": 1, "maxSize": 5 * 1024 * 1024}
    return [
        _writable("inbox", "createRule", PLAIN_FIELDS),
        _writable("linked", "createRule", post_fields()),
        _writable("uploads", "createRule", [{"name": "title", "type": "text"}, upload, *AUTODATES]),
        _writable("items", "updateRule", [*PLAIN_FIELDS, {"name": "score", "type": "number"}]),
        _writable("trash", "deleteRule", [{"name": "title", "type": "text"},
                                          {"name": "views", "type": "number"}, *AUTODATES]),
    ]


def collections() -> list[dict[str, Any]]:
    nobody = None
    return [
        {"name": "posts", "type": "base", "fields": post_fields(),
         "listRule": "", "viewRule": "", "createRule": nobody, "updateRule": nobody,
         "deleteRule": nobody,
         "indexes": ["CREATE INDEX idx_posts_views ON posts (views)",
                     "CREATE INDEX idx_posts_author ON posts (author)"]},
        {"name": "notes", "type": "base", "fields": post_fields(),
         "listRule": "author = @request.auth.id", "viewRule": "author = @request.auth.id",
         "createRule": nobody, "updateRule": nobody, "deleteRule": nobody,
         "indexes": ["CREATE INDEX idx_notes_author ON notes (author)"]},
        *write_collections(),
    ]


def record_body(rng: random.Random, author: str) -> dict[str, Any]:
    return {
        "title": " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 8))),
        "body": " ".join(rng.choice(WORDS) for _ in range(rng.randint(30, 80))),
        "views": rng.randint(0, 10_000),
        "published": rng.random() < 0.7,
        "author": author,
        "tags": sorted(rng.sample(TAGS, rng.randint(0, 3))),
    }


@dataclass
class Seeded:
    """What the scenarios need to know about a seeded server."""

    superuser_token: str
    users: list[dict[str, str]] = field(default_factory=list)  # id, email, token
    post_ids: list[str] = field(default_factory=list)
    note_count: int = 0
    item_ids: list[str] = field(default_factory=list)  # items[0] is the hot record of score+


async def login(client: httpx.AsyncClient, collection: str, identity: str, password: str) -> dict:
    response = await client.post(f"/api/collections/{collection}/auth-with-password",
                                 json={"identity": identity, "password": password})
    response.raise_for_status()
    return response.json()


async def create_all(client: httpx.AsyncClient, path: str, bodies: list[dict[str, Any]],
                     headers: dict[str, str], concurrency: int) -> list[str]:
    ids: list[str | None] = [None] * len(bodies)
    queue = iter(enumerate(bodies))

    async def worker() -> None:
        for index, body in queue:
            response = await client.post(path, json=body, headers=headers)
            if response.status_code != 200:
                raise RuntimeError(f"POST {path} -> {response.status_code}: {response.text[:300]}")
            ids[index] = response.json()["id"]

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return [i for i in ids if i]


async def seed(url: str, *, posts: int, users: int, items: int, concurrency: int = 8) -> Seeded:
    """Enable batch; create the collections, ``users`` users, ``posts`` posts, ``posts`` notes
    and ``items`` items."""
    rng = random.Random(20250401)
    async with httpx.AsyncClient(base_url=url, timeout=60.0) as client:
        token = (await login(client, "_superusers", *SUPERUSER))["token"]
        admin = {"Authorization": token}
        response = await client.patch("/api/settings", json={"batch": BATCH_SETTINGS}, headers=admin)
        if response.status_code != 200:
            raise RuntimeError(f"enabling batch: {response.status_code} {response.text}")
        for definition in collections():
            response = await client.post("/api/collections", json=definition, headers=admin)
            if response.status_code != 200:
                raise RuntimeError(f"creating {definition['name']}: {response.status_code} {response.text}")
        seeded = Seeded(superuser_token=token)
        user_bodies = [{"email": f"user{n}@example.com", "password": USER_PASSWORD,
                        "passwordConfirm": USER_PASSWORD, "verified": True, "name": f"User {n}"}
                       for n in range(users)]
        user_ids = await create_all(client, "/api/collections/users/records", user_bodies, admin,
                                     min(concurrency, 4))
        for n, user_id in enumerate(user_ids):
            signed_in = await login(client, "users", f"user{n}@example.com", USER_PASSWORD)
            seeded.users.append({"id": user_id, "email": f"user{n}@example.com", "token": signed_in["token"]})
        post_bodies = [record_body(rng, rng.choice(user_ids)) for _ in range(posts)]
        note_bodies = [record_body(rng, rng.choice(user_ids)) for _ in range(posts)]
        seeded.post_ids = await create_all(client, "/api/collections/posts/records", post_bodies,
                                            admin, concurrency)
        await create_all(client, "/api/collections/notes/records", note_bodies, admin, concurrency)
        seeded.note_count = len(note_bodies)
        item_bodies = [{"title": f"item {n}", "body": "an item", "views": n, "score": 0} for n in range(items)]
        seeded.item_ids = await create_all(client, "/api/collections/items/records", item_bodies,
                                            admin, concurrency)
        return seeded
