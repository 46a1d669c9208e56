"""Settings tests: records + auth + mailer + files + settings on a temp data dir, and the real
PocketBase beside a pbk server for the differential tests (``programs``)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from pbk_sdk.testing import Program, pocketbase_and_pbk

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "mailer" / "tests"))  # smtp_server

PLUGINS = ["records", "auth", "mailer", "files", "settings"]


@pytest.fixture
def pbk_plugins() -> list[str]:
    return list(PLUGINS)


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


@pytest.fixture(scope="module")
def programs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[Program]]:
    """The real PocketBase 0.40.6 and a pbk server, each new, with the same superuser."""
    with pocketbase_and_pbk(tmp_path_factory.mktemp("settings-programs"), PLUGINS) as started:
        yield started
