"""End to end: the official JS SDK against `pbk serve`, the CLI, the installer link, an auth
backend plugin from a plugins dir, and a user created by the real PocketBase binary."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from pbk_sdk.testing import superuser_token
from pbk_sdk.testing.postgres import database_for, engine_under_test
from smtp_server import SmtpServer, find_otp, find_token

HERE = Path(__file__).parent


@pytest.fixture
def smtp() -> Any:
    server = SmtpServer().start()
    yield server
    server.stop()


def prepare(data_dir: Path, settings: dict[str, Any], *, otp: bool = False) -> None:
    """Build the app in-process on the data dir to store settings and users before serving."""
    from pbk import build_app

    async def run() -> None:
        app = build_app(data_dir=data_dir, plugins=("records", "auth", "mailer"), **({"db": database_for(data_dir)} if engine_under_test() == "postgresql" else {}))
        await app.start()
        try:
            await app.settings.update(settings)
            store = app.services.get("record_store", "sqlite")
            await store.create(store.collection("_superusers"), {"email": "root@example.com", "password": "1234567890"})
            await store.create(store.collection("users"), {"email": "ada@example.com", "password": "ada-password"})
        finally:
            await app.stop()

    asyncio.run(run())


def wait_mail(smtp: Any, count: int) -> Any:
    return smtp.inbox.wait(count, timeout=15)[count - 1]


@pytest.mark.slow
def test_js_sdk_end_to_end(tmp_path, live_server_factory, js_sdk, smtp):
    data = tmp_path / "pb_data"
    prepare(data, smtp.settings())
    server = live_server_factory(["--plugins", "records,auth,mailer"], data_dir=data)
    root = superuser_token(server.url, "root@example.com", "1234567890")
    users = httpx.get(f"{server.url}/api/collections/users", headers={"Authorization": root}).json()
    patched = httpx.patch(f"{server.url}/api/collections/users", headers={"Authorization": root},
                          json={"otp": {**users["otp"], "enabled": True}})
    assert patched.status_code == 200, patched.text

    state = js_sdk.run("""
        const auth = await pb.collection("users").authWithPassword("ada@example.com", "ada-password");
        const valid = pb.authStore.isValid, superuser = pb.authStore.isSuperuser;
        const refreshed = await pb.collection("users").authRefresh();
        const methods = await pb.collection("users").listAuthMethods();
        await pb.collection("users").requestVerification("ada@example.com");
        output({ id: auth.record.id, valid, superuser, model: pb.authStore.record.email,
                 refreshed: refreshed.record.id, otp: methods.otp, token: pb.authStore.token });
    """, server.url)
    assert state["valid"] is True and state["superuser"] is False and state["model"] == "ada@example.com"
    assert state["refreshed"] == state["id"] and state["otp"] == {"enabled": True, "duration": 180}
    verification = wait_mail(smtp, 1)
    assert verification["Subject"] == "Verify your Acme Test email"
    token = find_token(verification, "confirm-verification")
    verified = js_sdk.run(f"""
        await pb.collection("users").confirmVerification("{token}");
        await pb.collection("users").requestPasswordReset("ada@example.com");
        output(true);
    """, server.url)
    assert verified is True
    reset = find_token(wait_mail(smtp, 2), "confirm-password-reset")
    old_token = state["token"]
    after = js_sdk.run(f"""
        await pb.collection("users").confirmPasswordReset("{reset}", "new-password-1", "new-password-1");
        pb.authStore.save("{old_token}", null);
        let refreshStatus = 0;
        try {{ await pb.collection("users").authRefresh(); }} catch (e) {{ refreshStatus = e.status; }}
        const again = await pb.collection("users").authWithPassword("ada@example.com", "new-password-1");
        const otp = await pb.collection("users").requestOTP("ada@example.com");
        output({{ refreshStatus, verified: again.record.verified, otpId: otp.otpId }});
    """, server.url)
    assert after["refreshStatus"] == 401, "a token stops working after a password change"
    assert after["verified"] is True
    code = find_otp(wait_mail(smtp, 3))
    impersonated = js_sdk.run(f"""
        const otpAuth = await pb.collection("users").authWithOTP("{after['otpId']}", "{code}");
        const su = await pb.collection("_superusers").authWithPassword("root@example.com", "1234567890");
        const isSuperuser = pb.authStore.isSuperuser;
        const client = await pb.collection("users").impersonate(otpAuth.record.id, 100);
        output({{ otp: otpAuth.record.email, isSuperuser, imp: client.authStore.record.email,
                  impValid: client.authStore.isValid, impToken: client.authStore.token }});
    """, server.url)
    assert impersonated["otp"] == "ada@example.com" and impersonated["isSuperuser"] is True
    assert impersonated["imp"] == "ada@example.com" and impersonated["impValid"] is True
    import jwt
    assert jwt.decode(impersonated["impToken"], options={"verify_signature": False})["refreshable"] is False


def pbk(*args: str, data_dir: Path, plugins: str = "records,auth,mailer") -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pbk", "--plugins", plugins, "--dir", str(data_dir), *args],
                          capture_output=True, text=True, timeout=60, check=False)


@pytest.mark.slow
def test_superuser_otp_command(tmp_path):
    data = tmp_path / "pb_data"
    assert pbk("superuser", "create", "root@example.com", "1234567890", data_dir=data).returncode == 0
    off = pbk("superuser", "otp", "root@example.com", data_dir=data)
    assert off.returncode == 1 and "OTP auth is not enabled for the _superusers collection" in off.stderr
    from pbk import build_app

    async def enable() -> None:
        app = build_app(data_dir=data, plugins=("records", "auth"),
                        **({"db": database_for(data)} if engine_under_test() == "postgresql" else {}))
        await app.start()
        try:
            conn_sql = ("UPDATE _collections SET options = jsonb_set(options::jsonb, '{otp,enabled}', 'true')::json "
                        "WHERE name = '_superusers'" if app.db.engine == "postgresql" else
                        "UPDATE _collections SET options = json_set(options, '$.otp.enabled', json('true')) WHERE name = '_superusers'")
            await app.db.write(lambda conn: conn.execute(conn_sql))
        finally:
            await app.stop()

    asyncio.run(enable())
    made = pbk("superuser", "otp", "root@example.com", data_dir=data)
    assert made.returncode == 0, made.stderr
    assert re.fullmatch(r'Successfully created OTP for superuser "root@example.com":\n├─ Id:    [a-z0-9]{15}\n'
                        r'├─ Pass:  \d{8}\n└─ Valid: 180s\n', made.stdout), made.stdout
    unknown = pbk("superuser", "otp", "nobody@example.com", data_dir=data)
    assert unknown.returncode == 1 and 'superuser with email "nobody@example.com" doesn\'t exist' in unknown.stderr


@pytest.mark.slow
def test_installer_link_on_first_serve(tmp_path, live_server_factory):
    server = live_server_factory(["--plugins", "records,auth"])
    deadline = time.monotonic() + 10
    while "pbinstall/" not in server.output() and time.monotonic() < deadline:
        time.sleep(0.05)
    match = re.search(r"http://127\.0\.0\.1:\d+/_/#/pbinstall/(\S+)", server.output())
    assert match, server.output()
    token = match.group(1)
    import jwt
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["refreshable"] is False and claims["collectionId"] == "pbc_3142635823"
    created = httpx.post(f"{server.url}/api/collections/_superusers/records", headers={"Authorization": token},
                         json={"email": "first@example.com", "password": "1234567890", "passwordConfirm": "1234567890"})
    assert created.status_code == 200, created.text
    login = superuser_token(server.url, "first@example.com", "1234567890")
    listed = httpx.get(f"{server.url}/api/collections/_superusers/records", headers={"Authorization": login}).json()
    assert [item["email"] for item in listed["items"]] == ["first@example.com"], "the installer account is gone"


async def test_auth_backend_from_a_plugins_dir(tmp_path):
    import falcon.testing
    from pbk import build_app

    app = build_app(data_dir=tmp_path / "pb_data", plugins=("records", "auth"), plugins_dir=HERE / "backend_plugins")
    await app.start()
    try:
        store = app.services.get("record_store", "sqlite")
        await store.create(store.collection("users"), {"email": "ada@example.com", "password": "ada-password"})
        async with falcon.testing.ASGIConductor(app.asgi) as api:
            body = {"identity": "grace@corp.test", "password": "directory-pass"}
            assert (await api.post("/api/collections/users/auth-with-password", json=body)).status_code == 400
            await app.settings.update({"authBackend": {"name": "dict", "collections": ["users"]}})
            result = await api.post("/api/collections/users/auth-with-password", json=body)
            assert result.status_code == 200, result.text
            assert result.json["record"]["email"] == "grace@corp.test" and result.json["record"]["name"] == "Grace"
            wrong = await api.post("/api/collections/users/auth-with-password",
                                   json={"identity": "grace@corp.test", "password": "nope"})
            assert wrong.status_code == 400
            local = await api.post("/api/collections/users/auth-with-password",
                                   json={"identity": "ada@example.com", "password": "ada-password"})
            assert local.status_code == 200, "identities the backend declines fall back to local passwords"
    finally:
        await app.stop()


@pytest.mark.slow
@pytest.mark.skipif(engine_under_test() == "postgresql", reason="PocketBase's data is in SQLite: moving it into "
                    "PostgreSQL is the data mover's job, not pbk serve's")
def test_a_user_created_by_pocketbase_signs_in_to_pbk(tmp_path, pocketbase_factory, live_server_factory):
    data = tmp_path / "pb_data"
    pocketbase = pocketbase_factory(data_dir=data)
    created = httpx.post(f"{pocketbase.url}/api/collections/users/records",
                         json={"email": "pb@example.com", "password": "pb-password", "passwordConfirm": "pb-password"})
    assert created.status_code == 200, created.text
    pocketbase.stop()
    server = live_server_factory(["--plugins", "records,auth,mailer"], data_dir=data)
    result = httpx.post(f"{server.url}/api/collections/users/auth-with-password",
                        json={"identity": "pb@example.com", "password": "pb-password"})
    assert result.status_code == 200, result.text
    assert result.json()["record"]["id"] == created.json()["id"]
    wrong = httpx.post(f"{server.url}/api/collections/users/auth-with-password",
                       json={"identity": "pb@example.com", "password": "wrong-password"})
    assert wrong.status_code == 400
