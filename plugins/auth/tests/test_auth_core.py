"""Tokens, the Authorization header, password sign-in and refresh, superusers from the CLI."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from typing import Any

import falcon.testing
import jwt
import pytest
import pytest_asyncio


@pytest.fixture
def pbk_plugins() -> list[str]:
    return ["records", "auth"]


@pytest.fixture
def store(pbk_app: Any) -> Any:
    return pbk_app.services.get("record_store", "sqlite")


@pytest_asyncio.fixture
async def api(pbk_app: Any) -> Any:
    async with falcon.testing.ASGIConductor(pbk_app.asgi) as conductor:
        yield conductor


@pytest_asyncio.fixture
async def ada(store: Any) -> dict[str, Any]:
    return await store.create(store.collection("users"), {"email": "ada@example.com", "password": "ada-password", "name": "Ada"})


async def login(api: Any, identity: str, password: str, collection: str = "users") -> Any:
    return await api.post(f"/api/collections/{collection}/auth-with-password", json={"identity": identity, "password": password})


async def test_password_login_returns_the_record_and_a_pocketbase_token(api, ada, store):
    result = await login(api, "ada@example.com", "ada-password")
    assert result.status_code == 200, result.text
    body = result.json
    assert body["record"]["email"] == "ada@example.com", "the owner always sees the email"
    assert "password" not in body["record"] and "tokenKey" not in body["record"]
    claims = jwt.decode(body["token"], options={"verify_signature": False})
    assert set(claims) == {"collectionId", "exp", "id", "refreshable", "type"}
    assert claims["collectionId"] == "_pb_users_auth_" and claims["type"] == "auth" and claims["refreshable"] is True
    assert 432000 - 5 <= claims["exp"] - time.time() <= 432000
    users = store.collection("users")
    stored = await store.get(users, ada["id"])
    key = stored["tokenKey"] + users.options["authToken"]["secret"]
    assert jwt.decode(body["token"], key, algorithms=["HS256"])["id"] == ada["id"]


@pytest.mark.parametrize(
    ("body", "status", "expected"),
    [
        ({"identity": "ada@example.com", "password": "wrong"}, 400, {"message": "Failed to authenticate.", "data": {}}),
        ({"identity": "nobody@example.com", "password": "ada-password"}, 400, {"message": "Failed to authenticate."}),
        ({}, 400, {"message": "An error occurred while validating the submitted data.",
                   "data": {"identity": {"code": "validation_required", "message": "Cannot be blank."},
                            "password": {"code": "validation_required", "message": "Cannot be blank."}}}),
        ({"identity": 5, "password": []}, 400, {"message": "An error occurred while loading the submitted data."}),
        ({"IDENTITY": "ada@example.com", "Password": "ada-password"}, 200, None),
        ({"identity": "ada@example.com", "password": "ada-password", "identityField": "name"}, 400,
         {"data": {"identityField": {"code": "validation_in_invalid", "message": "Must be a valid value."}}}),
    ],
    ids=["wrong password", "unknown identity", "missing fields", "wrong types", "keys in any case", "identity field not allowed"],
)
async def test_password_login_errors(api, ada, body, status, expected):
    result = await api.post("/api/collections/users/auth-with-password", json=body)
    assert result.status_code == status, result.text
    if expected:
        for key, value in expected.items():
            assert result.json[key] == value


async def test_auth_routes_need_an_auth_collection(api):
    result = await login(api, "x@example.com", "whatever", collection="_mfas")
    assert result.status_code == 404
    assert result.json["message"] == "Missing or invalid auth collection context."


async def test_tokens_authenticate_with_or_without_bearer_and_bad_ones_make_guests(api, ada):
    token = (await login(api, "ada@example.com", "ada-password")).json["token"]
    for header in (token, f"Bearer {token}", f"bearer {token}"):
        refreshed = await api.post("/api/collections/users/auth-refresh", headers={"Authorization": header})
        assert refreshed.status_code == 200, refreshed.text
        assert refreshed.json["record"]["id"] == ada["id"]
    forged = jwt.encode(jwt.decode(token, options={"verify_signature": False}), "a-key-that-is-long-enough-but-not-the-right-one", algorithm="HS256")
    for header in ("garbage", forged, token[:-2]):
        result = await api.post("/api/collections/users/auth-refresh", headers={"Authorization": header})
        assert result.status_code == 401
        assert result.json["message"] == "The request requires valid record authorization token."


async def test_a_password_change_revokes_old_tokens(api, ada, store):
    token = (await login(api, "ada@example.com", "ada-password")).json["token"]
    url = f"/api/collections/users/records/{ada['id']}"
    missing_old = await api.patch(url, headers={"Authorization": token}, json={"password": "new-password-1", "passwordConfirm": "new-password-1"})
    assert missing_old.status_code == 400
    assert missing_old.json["data"]["oldPassword"]["code"] == "validation_required"
    changed = await api.patch(url, headers={"Authorization": token}, json={
        "password": "new-password-1", "passwordConfirm": "new-password-1", "oldPassword": "ada-password"})
    assert changed.status_code == 200, changed.text
    stale = await api.post("/api/collections/users/auth-refresh", headers={"Authorization": token})
    assert stale.status_code == 401
    assert (await login(api, "ada@example.com", "new-password-1")).status_code == 200
    assert (await login(api, "ada@example.com", "ada-password")).status_code == 400


async def test_a_token_of_another_collection_is_refused_by_refresh(api, ada, store):
    await store.create(store.collection("_superusers"), {"email": "root@example.com", "password": "1234567890"})
    token = (await login(api, "root@example.com", "1234567890", "_superusers")).json["token"]
    result = await api.post("/api/collections/users/auth-refresh", headers={"Authorization": token})
    assert result.status_code == 403
    assert result.json["message"] == "The request requires auth record from _superusers collection."


async def test_the_auth_rule_can_refuse_a_login(api, ada, store, pbk_app):
    users = store.collection("users")
    su = await store.create(store.collection("_superusers"), {"email": "root@example.com", "password": "1234567890"})
    assert su
    token = (await login(api, "root@example.com", "1234567890", "_superusers")).json["token"]
    patched = await api.patch("/api/collections/users", headers={"Authorization": token}, json={"authRule": "verified = true"})
    assert patched.status_code == 200, patched.text
    refused = await login(api, "ada@example.com", "ada-password")
    assert refused.status_code == 403
    assert refused.json["message"] == "The request doesn't satisfy the collection requirements to authenticate."
    await store.update(store.collection("users"), ada["id"], {"verified": True})
    assert (await login(api, "ada@example.com", "ada-password")).status_code == 200
    assert users.id == "_pb_users_auth_"


def pbk(*args: str, data_dir: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pbk", "--plugins", "records,auth", "--dir", data_dir, *args],
        check=False, capture_output=True, text=True, timeout=60, env=os.environ.copy(),
    )


def test_superuser_commands(tmp_path):
    data = str(tmp_path / "pb_data")
    created = pbk("superuser", "create", "root@example.com", "1234567890", data_dir=data)
    assert created.returncode == 0, created.stderr
    assert created.stdout.strip() == 'Successfully created new superuser "root@example.com"!'
    again = pbk("superuser", "create", "root@example.com", "1234567890", data_dir=data)
    assert again.returncode == 1 and "email: Value must be unique." in again.stderr
    short = pbk("superuser", "create", "two@example.com", "short", data_dir=data)
    assert short.returncode == 1 and "password: Must be at least 8 character(s)." in short.stderr
    bad = pbk("superuser", "create", "not-an-email", "1234567890", data_dir=data)
    assert bad.returncode == 1 and "missing or invalid email address" in bad.stderr
    upsert = pbk("superuser", "upsert", "root@example.com", "new-password", data_dir=data)
    assert upsert.stdout.strip() == 'Successfully saved superuser "root@example.com"!'
    update = pbk("superuser", "update", "nobody@example.com", "new-password", data_dir=data)
    assert update.returncode == 1 and 'superuser with email "nobody@example.com" doesn\'t exist' in update.stderr
    last = pbk("superuser", "delete", "root@example.com", data_dir=data)
    assert last.returncode == 1 and "only existing superuser" in last.stderr
    pbk("superuser", "upsert", "two@example.com", "1234567890", data_dir=data)
    deleted = pbk("superuser", "delete", "root@example.com", data_dir=data)
    assert deleted.returncode == 0 and deleted.stdout.strip() == 'Successfully deleted superuser "root@example.com"!'
    missing = pbk("superuser", "delete", "root@example.com", data_dir=data)
    assert missing.returncode == 0 and 'superuser "root@example.com" is missing or already deleted' in missing.stdout


HASHER_PLUGIN = '''
import hashlib
from pbk_sdk import hookimpl


class Sha256:
    """A test hasher: not for production (no salt, no cost)."""

    def hash(self, password):
        return "sha256$" + hashlib.sha256(password.encode()).hexdigest()

    def verify(self, password, hashed):
        return hashed == self.hash(password)


@hookimpl
def pbk_register_password_hashers(app):
    return {"sha256": lambda app: Sha256()}
'''


async def test_the_password_hasher_is_swappable(tmp_path):
    from pbk import build_app

    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "sha_hasher.py").write_text(HASHER_PLUGIN)
    app = build_app(data_dir=tmp_path / "pb_data", plugins=["records", "auth"], plugins_dir=plugins)
    async with falcon.testing.ASGIConductor(app.asgi) as client:
        await app.settings.update({"passwordHasher": {"name": "sha256"}})
        store = app.services.get("record_store", "sqlite")
        user = await store.create(store.collection("users"), {"email": "h@example.com", "password": "hash-me-please"})
        assert (await store.get(store.collection("users"), user["id"]))["password"].startswith("sha256$")
        login = await client.post("/api/collections/users/auth-with-password",
                                  json={"identity": "h@example.com", "password": "hash-me-please"})
        assert login.status_code == 200, login.text


async def test_each_app_keeps_its_own_counters(tmp_path):
    """Two apps in one process (tests, ``pbk shell``) never share a resend throttle."""
    from pbk import build_app
    from pbk_auth.counters import throttled

    apps = [build_app(data_dir=tmp_path / name, plugins=["records", "auth"]) for name in ("a", "b")]
    for app in apps:
        await app.start()
    try:
        users = [app.services.get("record_store", "sqlite").collection("users") for app in apps]
        assert await throttled(apps[0], "verification", users[0], "some-record") is False
        assert await throttled(apps[0], "verification", users[0], "some-record") is True
        assert await throttled(apps[1], "verification", users[1], "some-record") is False
    finally:
        for app in apps:
            await app.stop()
