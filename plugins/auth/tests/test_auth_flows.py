"""Every sign-in flow with mail delivered to a real SMTP server (aiosmtpd) started here."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import falcon.testing
import jwt
import pytest
import pytest_asyncio
from pbk_auth.login_alerts import auth_alert
from smtp_server import SmtpServer, find_otp, find_token, parts

HERE = Path(__file__).parent


@pytest.fixture
def pbk_plugins() -> list[str]:
    return ["records", "auth", "mailer"]


@pytest.fixture
def smtp() -> Any:
    server = SmtpServer().start()
    yield server
    server.stop()


@pytest.fixture
def store(pbk_app: Any) -> Any:
    return pbk_app.services.get("record_store", "sqlite")


@pytest_asyncio.fixture
async def api(pbk_app: Any, smtp: Any) -> Any:
    await pbk_app.settings.update(smtp.settings())
    async with falcon.testing.ASGIConductor(pbk_app.asgi) as conductor:
        yield conductor


@pytest_asyncio.fixture
async def ada(store: Any) -> dict[str, Any]:
    return await store.create(store.collection("users"), {"email": "ada@example.com", "password": "ada-password", "name": "Ada"})


@pytest_asyncio.fixture
async def root_token(api: Any, store: Any) -> str:
    await store.create(store.collection("_superusers"), {"email": "root@example.com", "password": "1234567890"})
    return (await login(api, "root@example.com", "1234567890", "_superusers")).json["token"]


async def login(api: Any, identity: str, password: str, collection: str = "users", **extra: Any) -> Any:
    return await api.post(f"/api/collections/{collection}/auth-with-password",
                          json={"identity": identity, "password": password, **extra})


async def mails(pbk_app: Any, smtp: Any, count: int) -> list[Any]:
    assert await pbk_app.services.get("mailer", "smtp").drain(10)
    return smtp.inbox.wait(count)


async def configure(api: Any, token: str, **options: Any) -> None:
    """PATCH auth options, merged into the current ones (the records plugin replaces nested objects)."""
    current = (await api.get("/api/collections/users", headers={"Authorization": token})).json
    merged = {key: {**(current.get(key) or {}), **value} for key, value in options.items()}
    result = await api.patch("/api/collections/users", headers={"Authorization": token}, json=merged)
    assert result.status_code == 200, result.text


async def test_auth_methods(api, root_token):
    result = await api.get("/api/collections/users/auth-methods")
    assert result.json == {"password": {"identityFields": ["email"], "enabled": True},
                           "oauth2": {"providers": [], "enabled": False}, "mfa": {"enabled": False, "duration": 0},
                           "otp": {"enabled": False, "duration": 0}, "authProviders": [], "usernamePassword": False,
                           "emailPassword": True}
    await configure(api, root_token, otp={"enabled": True})
    picked = await api.get("/api/collections/users/auth-methods?fields=mfa,otp,password,oauth2")
    assert picked.json == {"password": {"identityFields": ["email"], "enabled": True},
                           "oauth2": {"providers": [], "enabled": False}, "mfa": {"enabled": False, "duration": 0},
                           "otp": {"enabled": True, "duration": 180}}
    assert (await api.get("/api/collections/_mfas/auth-methods")).status_code == 404


async def test_verification_flow(api, pbk_app, smtp, ada, store):
    assert (await api.post("/api/collections/users/request-verification", json={"email": "ada@example.com"})).status_code == 204
    assert (await api.post("/api/collections/users/request-verification", json={"email": "nobody@example.com"})).status_code == 204
    [mail] = await mails(pbk_app, smtp, 1)
    assert mail["Subject"] == "Verify your Acme Test email" and mail["To"] == "ada@example.com"
    assert mail["From"] == "Acme Support <support@app.test>"
    token = find_token(mail, "confirm-verification")
    assert "http://app.test/_/#/auth/confirm-verification/" in parts(mail)[1]
    claims = jwt.decode(token, options={"verify_signature": False})
    assert set(claims) == {"collectionId", "email", "exp", "id", "type"} and claims["type"] == "verification"
    for _ in range(2):  # idempotent
        confirmed = await api.post("/api/collections/users/confirm-verification", json={"token": token})
        assert confirmed.status_code == 204, confirmed.text
    assert (await store.get(store.collection("users"), ada["id"]))["verified"] is True
    # a token of another type is refused
    auth_token = (await login(api, "ada@example.com", "ada-password")).json["token"]
    bad = await api.post("/api/collections/users/confirm-verification", json={"token": auth_token})
    assert bad.status_code == 400
    assert bad.json["data"]["token"]["code"] == "validation_invalid_token_claims"
    forged = jwt.encode(claims, "x" * 40, algorithm="HS256")
    bad = await api.post("/api/collections/users/confirm-verification", json={"token": forged})
    assert bad.json["data"]["token"] == {"code": "validation_invalid_token", "message": "Invalid or expired token."}


async def test_password_reset_flow(api, pbk_app, smtp, ada, store):
    old = (await login(api, "ada@example.com", "ada-password")).json["token"]
    assert (await api.post("/api/collections/users/request-password-reset", json={"email": "ada@example.com"})).status_code == 204
    [mail] = await mails(pbk_app, smtp, 1)
    assert mail["Subject"] == "Reset your Acme Test password"
    token = find_token(mail, "confirm-password-reset")
    short = await api.post("/api/collections/users/confirm-password-reset",
                           json={"token": token, "password": "short", "passwordConfirm": "other"})
    assert short.status_code == 400
    assert short.json["data"] == {
        "password": {"code": "validation_length_out_of_range", "message": "The length must be between 8 and 255.",
                     "params": {"min": 8, "max": 255}},
        "passwordConfirm": {"code": "validation_values_mismatch", "message": "Values don't match."}}
    done = await api.post("/api/collections/users/confirm-password-reset",
                          json={"token": token, "password": "brand-new-pass", "passwordConfirm": "brand-new-pass"})
    assert done.status_code == 204, done.text
    assert (await login(api, "ada@example.com", "brand-new-pass")).status_code == 200
    assert (await login(api, "ada@example.com", "ada-password")).status_code == 400
    assert (await api.post("/api/collections/users/auth-refresh", headers={"Authorization": old})).status_code == 401
    assert (await store.get(store.collection("users"), ada["id"]))["verified"] is True
    again = await api.post("/api/collections/users/confirm-password-reset",
                           json={"token": token, "password": "brand-new-pass", "passwordConfirm": "brand-new-pass"})
    assert again.json["data"]["token"]["code"] == "validation_invalid_token", "the token died with the old tokenKey"


async def test_email_change_flow(api, pbk_app, smtp, ada, store):
    token = (await login(api, "ada@example.com", "ada-password")).json["token"]
    guest = await api.post("/api/collections/users/request-email-change", json={"newEmail": "new@example.com"})
    assert guest.status_code == 401
    taken = await api.post("/api/collections/users/request-email-change", headers={"Authorization": token},
                           json={"newEmail": "ada@example.com"})
    assert taken.json["data"]["newEmail"]["code"] == "validation_not_in_invalid"  # PocketBase: NotIn(own email)
    asked = await api.post("/api/collections/users/request-email-change", headers={"Authorization": token},
                           json={"newEmail": "new@example.com"})
    assert asked.status_code == 204, asked.text
    [mail] = await mails(pbk_app, smtp, 1)
    assert mail["To"] == "new@example.com" and mail["Subject"] == "Confirm your Acme Test new email address"
    change = find_token(mail, "confirm-email-change")
    wrong = await api.post("/api/collections/users/confirm-email-change", json={"token": change, "password": "nope"})
    assert wrong.json["data"] == {"password": {"code": "validation_invalid_password",
                                               "message": "Missing or invalid auth record password."}}
    done = await api.post("/api/collections/users/confirm-email-change", json={"token": change, "password": "ada-password"})
    assert done.status_code == 204, done.text
    stored = await store.get(store.collection("users"), ada["id"])
    assert stored["email"] == "new@example.com" and stored["verified"] is True
    assert (await api.post("/api/collections/users/auth-refresh", headers={"Authorization": token})).status_code == 401
    assert (await login(api, "new@example.com", "ada-password")).status_code == 200


async def test_otp_flow(api, pbk_app, smtp, ada, store, root_token):
    disabled = await api.post("/api/collections/users/request-otp", json={"email": "ada@example.com"})
    assert disabled.status_code == 403
    await configure(api, root_token, otp={"enabled": True})
    unknown = await api.post("/api/collections/users/request-otp", json={"email": "nobody@example.com"})
    assert unknown.status_code == 200 and len(unknown.json["otpId"]) == 15
    asked = await api.post("/api/collections/users/request-otp", json={"email": "ada@example.com"})
    otp_id = asked.json["otpId"]
    [mail] = await mails(pbk_app, smtp, 1)
    assert mail["Subject"] == "OTP for Acme Test"
    code = find_otp(mail)
    assert len(code) == 8
    stored = await store.get(store.collection("_otps"), otp_id)
    assert stored["password"].startswith("$2") and stored["sentTo"] == "ada@example.com", "codes are stored hashed"
    wrong = await api.post("/api/collections/users/auth-with-otp", json={"otpId": otp_id, "password": "00000000"})
    assert wrong.status_code == 400 and wrong.json["message"] == "Invalid or expired OTP."
    ok = await api.post("/api/collections/users/auth-with-otp", json={"otpId": otp_id, "password": code})
    assert ok.status_code == 200, ok.text
    assert ok.json["record"]["verified"] is True
    reused = await api.post("/api/collections/users/auth-with-otp", json={"otpId": otp_id, "password": code})
    assert reused.status_code == 400
    assert (await login(api, "ada@example.com", "ada-password")).status_code == 400, "OTP on unverified replaces the password"
    missing = await api.post("/api/collections/users/auth-with-otp", json={})
    assert set(missing.json["data"]) == {"otpId", "password"}


async def test_otp_attempts_are_limited(api, pbk_app, smtp, ada, root_token):
    await configure(api, root_token, otp={"enabled": True})
    otp_id = (await api.post("/api/collections/users/request-otp", json={"email": "ada@example.com"})).json["otpId"]
    statuses = [(await api.post("/api/collections/users/auth-with-otp", json={"otpId": otp_id, "password": "1"})).status_code
                for _ in range(6)]
    assert statuses == [400] * 5 + [429]


async def test_mfa_two_steps(api, pbk_app, smtp, ada, store, root_token):
    await store.update(store.collection("users"), ada["id"], {"verified": True})
    await configure(api, root_token, otp={"enabled": True}, mfa={"enabled": True})
    first = await login(api, "ada@example.com", "ada-password")
    assert first.status_code == 401 and set(first.json) == {"mfaId"}, first.text
    mfa_id = first.json["mfaId"]
    same = await login(api, "ada@example.com", "ada-password", mfaId=mfa_id)
    assert same.status_code == 400 and same.json["message"] == "A different authentication method is required."
    otp_id = (await api.post("/api/collections/users/request-otp", json={"email": "ada@example.com"})).json["otpId"]
    code = find_otp((await mails(pbk_app, smtp, 1))[-1])
    bogus = await api.post("/api/collections/users/auth-with-otp", json={"otpId": otp_id, "password": code, "mfaId": "nope"})
    assert bogus.status_code == 400 and bogus.json["message"] == "Invalid or expired MFA session."
    otp_id = (await api.post("/api/collections/users/request-otp", json={"email": "ada@example.com"})).json["otpId"]
    code = find_otp((await mails(pbk_app, smtp, 2))[-1])
    done = await api.post(f"/api/collections/users/auth-with-otp?mfaId={mfa_id}", json={"otpId": otp_id, "password": code})
    assert done.status_code == 200, done.text
    assert done.json["record"]["id"] == ada["id"]
    assert await store.get(store.collection("_mfas"), mfa_id) is None


async def test_login_alert_for_a_new_device(api, pbk_app, smtp, ada):
    assert (await login(api, "ada@example.com", "ada-password")).status_code == 200  # first login: no alert
    await api.post("/api/collections/users/auth-with-password", headers={"User-Agent": "Other-Browser/1.0"},
                   json={"identity": "ada@example.com", "password": "ada-password"})
    await api.post("/api/collections/users/auth-with-password", headers={"User-Agent": "Other-Browser/1.0"},
                   json={"identity": "ada@example.com", "password": "ada-password"})
    [mail] = await mails(pbk_app, smtp, 1)
    assert mail["Subject"] == "Login from a new location"
    assert "Other-Browser/1.0" in parts(mail)[0]
    await asyncio.sleep(0.2)
    assert len(smtp.inbox.messages) == 1


async def test_impersonate(api, ada, root_token, store):
    user_token = (await login(api, "ada@example.com", "ada-password")).json["token"]
    url = f"/api/collections/users/impersonate/{ada['id']}"
    assert (await api.post(url, json={})).status_code == 401
    assert (await api.post(url, headers={"Authorization": user_token}, json={})).status_code == 403
    assert (await api.post("/api/collections/users/impersonate/nope", headers={"Authorization": root_token}, json={})).status_code == 404
    negative = await api.post(url, headers={"Authorization": root_token}, json={"duration": -5})
    assert negative.json["data"]["duration"]["code"] == "validation_min_greater_equal_than_required"
    result = await api.post(url, headers={"Authorization": root_token}, json={"duration": 100})
    assert result.status_code == 200 and result.json["record"]["email"] == "ada@example.com"
    claims = jwt.decode(result.json["token"], options={"verify_signature": False})
    assert claims["refreshable"] is False and 95 <= claims["exp"] - time.time() <= 100
    refreshed = await api.post("/api/collections/users/auth-refresh", headers={"Authorization": result.json["token"]})
    assert refreshed.json["token"] == result.json["token"], "impersonation tokens are not refreshable"


@pytest.mark.parametrize(("path", "body", "field", "code"), [
    ("request-verification", {"email": "not-an-email"}, "email", "validation_is_email"),
    ("request-verification", {}, "email", "validation_required"),
    ("request-password-reset", {"email": "x"}, "email", "validation_is_email"),
    ("confirm-password-reset", {}, "token", "validation_required"),
    ("confirm-verification", {"token": "abc"}, "token", "validation_invalid_token_claims"),
    ("confirm-email-change", {"token": "abc", "password": "x"}, "token", "validation_invalid_token_payload"),
    ("confirm-email-change", {}, "password", "validation_required"),
])
async def test_bad_input_gets_pocketbases_errors(api, path, body, field, code):
    result = await api.post(f"/api/collections/users/{path}", json=body)
    assert result.status_code == 400, result.text
    assert result.json["message"] == "An error occurred while validating the submitted data."
    assert result.json["data"][field]["code"] == code


async def test_wrong_types_and_superuser_verification(api):
    assert (await api.post("/api/collections/users/request-otp", json={"email": 5})).status_code in (400, 403)
    typed = await api.post("/api/collections/users/request-verification", json={"email": ["x"]})
    assert typed.status_code == 400 and typed.json["message"] == "An error occurred while loading the submitted data."
    su = await api.post("/api/collections/_superusers/request-verification", json={"email": "root@example.com"})
    assert su.json == {"data": {}, "message": "All superusers are verified by default.", "status": 400}
    broken = await api.post("/api/collections/users/confirm-verification", body=b"{nope", headers={"Content-Type": "application/json"})
    assert broken.status_code == 400


async def test_parallel_otp_guesses_share_one_limit(api, pbk_app, smtp, ada, root_token):
    await configure(api, root_token, otp={"enabled": True})
    otp_id = (await api.post("/api/collections/users/request-otp", json={"email": "ada@example.com"})).json["otpId"]
    guesses = await asyncio.gather(*[
        api.post("/api/collections/users/auth-with-otp", json={"otpId": otp_id, "password": f"{n:08d}"})
        for n in range(20)
    ])
    statuses = sorted(g.status_code for g in guesses)
    assert statuses.count(400) == 5 and statuses.count(429) == 15


async def test_a_login_alert_escapes_the_user_agent(api, pbk_app, smtp, ada):
    assert (await login(api, "ada@example.com", "ada-password")).status_code == 200  # first login: no alert
    await api.post("/api/collections/users/auth-with-password",
                   headers={"User-Agent": "<a href='https://evil.example'>Secure your account</a>"},
                   json={"identity": "ada@example.com", "password": "ada-password"})
    [mail] = await mails(pbk_app, smtp, 1)
    html_part = parts(mail)[1]
    assert "<a href='https://evil.example'>" not in html_part
    assert "&lt;a href=" in html_part



async def test_racing_logins_from_one_new_origin_record_it_once(pbk_app, smtp, ada, store):
    """Each login looks its origin up, then records it; logins racing from one new origin must
    not trip the origins' unique index (the benchmark's first wrk second got 400s)."""
    users = store.collection("users")
    request = falcon.testing.create_asgi_req(headers={"User-Agent": "Racer/1.0"})
    await asyncio.gather(*[auth_alert(pbk_app, request, users, ada) for _ in range(8)])
    assert len(await store.find_all(store.collection("_authOrigins"), {"recordRef": ada["id"]})) == 1
    await asyncio.sleep(0.2)
    assert smtp.inbox.messages == []  # a record's first origin is no news
