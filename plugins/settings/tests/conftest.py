"""Settings tests: records + auth + mailer + files + settings on a temp data dir."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import falcon.testing
import pytest
import pytest_asyncio


@pytest.fixture
def pbk_plugins() -> list[str]:
    return ["records", "auth", "mailer", "files", "settings"]


@pytest_asyncio.fixture
async def api(pbk_app: Any) -> AsyncIterator[Any]:
    async with falcon.testing.ASGIConductor(pbk_app.asgi) as conductor:
        yield conductor


@pytest_asyncio.fixture
async def headers(pbk_app: Any) -> dict[str, dict[str, str]]:
    """``Authorization`` headers of a superuser and of a regular user (tokens minted directly)."""
    store = pbk_app.services.get("record_store", "sqlite")
    tokens = pbk_app.services.get("token_service", "jwt")
    out = {}
    for role, collection, email in (("superuser", "_superusers", "root@example.com"),
                                    ("user", "users", "ada@example.com")):
        coll = store.collection(collection)
        record = await store.create(coll, {"email": email, "password": "1234567890"})
        out[role] = {"Authorization": tokens.mint(record, coll, "auth")}
    return out
