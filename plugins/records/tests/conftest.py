"""Records tests run the records and auth plugins on a temp data dir, with tokens at hand."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import falcon.testing
import pytest
import pytest_asyncio
from pbk_sdk import events
from pbk_sdk.testing.scenarios import EventSpy

SUPERUSER = ("root@example.com", "1234567890")
USERS = {"user": ("ada@example.com", "ada-password"), "user2": ("bob@example.com", "bob-password")}
WATCHED_EVENTS = [value for name, value in vars(events).items() if name.startswith(("RECORD", "COLLECTION"))]


@pytest.fixture
def pbk_plugins() -> list[str]:
    return ["records", "auth"]


@pytest.fixture
def store(pbk_app: Any) -> Any:
    return pbk_app.services.get("record_store", "sqlite")


@pytest_asyncio.fixture
async def api(pbk_app: Any) -> AsyncIterator[Any]:
    async with falcon.testing.ASGIConductor(pbk_app.asgi) as conductor:
        yield conductor


@pytest_asyncio.fixture
async def tokens(api: Any, store: Any) -> dict[str, str]:
    """Tokens of a superuser and two users (``users`` collection), by role name."""
    await store.create(store.collection("_superusers"), {"email": SUPERUSER[0], "password": SUPERUSER[1]})
    out = {}
    result = await api.post(
        "/api/collections/_superusers/auth-with-password",
        json={"identity": SUPERUSER[0], "password": SUPERUSER[1]},
    )
    out["superuser"] = result.json["token"]
    for role, (email, password) in USERS.items():
        await store.create(store.collection("users"), {"email": email, "password": password, "name": role})
        result = await api.post(
            "/api/collections/users/auth-with-password", json={"identity": email, "password": password}
        )
        out[role] = result.json["token"]
    return out


@pytest.fixture
def spy(pbk_app: Any) -> Any:
    watcher = EventSpy(pbk_app, WATCHED_EVENTS)
    yield watcher
    watcher.close()
