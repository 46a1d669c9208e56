"""Settings tests: records + auth + mailer + files + settings on a temp data dir."""

from __future__ import annotations

from typing import Any

import pytest
import pytest_asyncio


@pytest.fixture
def pbk_plugins() -> list[str]:
    return ["records", "auth", "mailer", "files", "settings"]


@pytest.fixture
def api(pbk_client: Any) -> Any:
    """The SDK's in-process client over ``pbk_app``."""
    return pbk_client


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
