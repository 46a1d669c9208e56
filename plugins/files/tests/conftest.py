"""Files tests: records + auth + files on a temp data dir, each case on local disk and on S3
(moto's standalone server, started once per session on a free loopback port)."""

from __future__ import annotations

from typing import Any

import pytest
import pytest_asyncio
from pbk_sdk.testing import make_bucket, s3_settings

SUPERUSER = ("root@example.com", "1234567890")
USERS = {"user": ("ada@example.com", "ada-password"), "user2": ("bob@example.com", "bob-password")}


@pytest.fixture
def pbk_plugins() -> list[str]:
    return ["records", "auth", "files"]


@pytest.fixture(autouse=True)
def cheap_bcrypt(monkeypatch: pytest.MonkeyPatch) -> None:
    """Test passwords need no real bcrypt cost (the tests would spend most time hashing)."""
    import pbk_auth.hashing

    monkeypatch.setattr(pbk_auth.hashing, "BCRYPT_COST", 4)


@pytest.fixture(params=["local", "s3"])
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest_asyncio.fixture
async def app(pbk_app: Any, backend: str, request: pytest.FixtureRequest) -> Any:
    """The started app, its storage switched to S3 by settings alone for the ``s3`` runs."""
    if backend == "s3":
        endpoint = request.getfixturevalue("moto_server")
        await pbk_app.settings.update({"s3": s3_settings(endpoint, make_bucket(endpoint))})
    return pbk_app


@pytest.fixture
def storage(app: Any) -> Any:
    from pbk_files.backend import storage_for

    return storage_for(app)


@pytest.fixture
def store(app: Any) -> Any:
    return app.services.get("record_store", "sqlite")


@pytest.fixture
def api(app: Any, pbk_client: Any) -> Any:
    """The SDK's in-process client over the app, once ``app`` chose its backend."""
    return pbk_client


@pytest_asyncio.fixture
async def tokens(api: Any, store: Any) -> dict[str, str]:
    await store.create(store.collection("_superusers"), {"email": SUPERUSER[0], "password": SUPERUSER[1]})
    out = {}
    result = await api.post("/api/collections/_superusers/auth-with-password",
                            json={"identity": SUPERUSER[0], "password": SUPERUSER[1]})
    out["superuser"] = result.json["token"]
    for role, (email, password) in USERS.items():
        await store.create(store.collection("users"), {"email": email, "password": password, "name": role})
        result = await api.post("/api/collections/users/auth-with-password",
                                json={"identity": email, "password": password})
        out[role] = result.json["token"]
        out[role + "_id"] = result.json["record"]["id"]
    return out
