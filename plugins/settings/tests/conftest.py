"""Settings tests: records + auth + mailer + files + settings on a temp data dir, and the real
PocketBase beside a pbk server for the differential tests (``programs``)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from pbk_sdk.testing import pocketbase_superuser, start_pocketbase, superuser_token
from pbk_sdk.testing.servers import start_live_server

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "mailer" / "tests"))  # smtp_server

PLUGINS = "records,auth,mailer,files,settings"
EMAIL, PASSWORD = "root@example.com", "1234567890"


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


@dataclass
class Program:
    """A running PocketBase or pbk and a client signed in as its superuser."""

    name: str
    client: httpx.Client

    def call(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        response = self.client.request(method, path, json=body)
        return response.status_code, response.json() if response.content else None


@pytest.fixture(scope="module")
def programs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[Program]]:
    """The real PocketBase 0.40.6 and a pbk server, each new, with the same superuser."""
    base = tmp_path_factory.mktemp("settings-programs")
    pocketbase_superuser(base / "pb_real", EMAIL, PASSWORD)
    real = start_pocketbase(base / "pb_real")
    done = subprocess.run([sys.executable, "-m", "pbk", "--plugins", PLUGINS, "--dir", str(base / "pb_data"),
                           "superuser", "upsert", EMAIL, PASSWORD],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    ours = start_live_server(base / "pb_data", ["--plugins", PLUGINS])
    clients = []
    try:
        for name, server in (("pocketbase", real), ("pbk", ours)):
            client = httpx.Client(base_url=server.url, timeout=30)
            client.headers["Authorization"] = superuser_token(server.url, EMAIL, PASSWORD)
            clients.append(Program(name, client))
        yield clients
    finally:
        for program in clients:
            program.client.close()
        ours.stop()
        real.stop()
