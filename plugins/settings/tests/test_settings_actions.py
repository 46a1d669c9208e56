"""``POST /api/settings/test/email`` and ``POST /api/settings/apple/generate-client-secret`` on
the real PocketBase 0.40.6 and on pbk: the same answers, the same mails delivered to real SMTP
servers (aiosmtpd), client secrets that verify with the key's public half."""

from __future__ import annotations

import base64
import json
import re
import shutil
import time
from collections.abc import Iterator
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from smtp_server import SmtpServer, parts

TEST_EMAIL = "/api/settings/test/email"
APPLE = "/api/settings/apple/generate-client-secret"
TEMPLATES = ("verification", "password-reset", "email-change", "otp", "login-alert")

EMAIL_CASES: dict[str, Any] = {
    "empty": {},
    "null": None,
    "all-bad": {"email": "bad", "template": "x", "collection": "nope"},
    "template-case": {"email": "a@b.co", "template": "OTP"},
    "collection-too-long": {"email": "a@b.co", "template": "otp", "collection": "x" * 256},
    "collection-not-auth": {"email": "a@b.co", "template": "otp", "collection": "_mfas"},
    "email-too-long": {"email": "a" * 250 + "@b.co", "template": "otp"},
    "email-no-tld": {"email": "a@b", "template": "otp"},
    "wrong-type": {"email": 5},
    "keys-any-case": {"EMAIL": "bad", "Template": "verification", "COLLECTION": "users"},
}
if shutil.which("sendmail") is None:  # smtp is off: both programs look for sendmail and fail alike
    EMAIL_CASES["no-sendmail"] = {"email": "a@b.co", "template": "verification", "collection": "users"}


def pem(der: bytes) -> str:
    return "-----BEGIN PRIVATE KEY-----\n" + base64.encodebytes(der).decode() + "-----END PRIVATE KEY-----\n"


P256 = ec.generate_private_key(ec.SECP256R1())
P256_PEM = pem(P256.private_bytes(Encoding.DER, PrivateFormat.PKCS8, NoEncryption()))
APPLE_FORM = {"clientId": "com.example.app", "teamId": "ABCDEFGHIJ", "keyId": "KEYID12345",
              "privateKey": P256_PEM, "duration": 3600}
APPLE_CASES: dict[str, Any] = {
    "empty": {},
    "all-bad": {"clientId": "x", "teamId": "123", "keyId": "12345678901", "privateKey": "nope", "duration": -1},
    "duration-too-long": {**APPLE_FORM, "duration": 15777001},
    "team-id-wide": {**APPLE_FORM, "teamId": "éééééABCDE"},
    "duration-float": {**APPLE_FORM, "duration": 1.5},
    "duration-text": {**APPLE_FORM, "duration": "1"},
    "not-pem": {**APPLE_FORM, "privateKey": "-----BEGIN PRIVATE KEY----abc-----END PRIVATE KEY-----"},
    "bad-base64": {**APPLE_FORM, "privateKey": "-----BEGIN PRIVATE KEY-----\n!!!!\n-----END PRIVATE KEY-----"},
    "ec-label": {**APPLE_FORM, "privateKey": P256_PEM.replace("PRIVATE KEY", "EC PRIVATE KEY")},
    "p384": {**APPLE_FORM, "privateKey": pem(ec.generate_private_key(ec.SECP384R1()).private_bytes(
        Encoding.DER, PrivateFormat.PKCS8, NoEncryption()))},
    "rsa-pkcs8": {**APPLE_FORM, "privateKey": pem(rsa.generate_private_key(65537, 2048).private_bytes(
        Encoding.DER, PrivateFormat.PKCS8, NoEncryption()))},
    "rsa-pkcs1": {**APPLE_FORM, "privateKey": pem(rsa.generate_private_key(65537, 2048).private_bytes(
        Encoding.DER, PrivateFormat.TraditionalOpenSSL, NoEncryption()))},
    "ed25519": {**APPLE_FORM, "privateKey": pem(ed25519.Ed25519PrivateKey.generate().private_bytes(
        Encoding.DER, PrivateFormat.PKCS8, NoEncryption()))},
}


def same_answers(programs: list[Any], path: str, cases: dict[str, Any]) -> list[Any]:
    """The cases whose (status, body) differ between PocketBase and pbk."""
    mismatches = []
    for name, body in cases.items():
        answers = [program.call("POST", path, body) for program in programs]
        if answers[0] != answers[1]:
            mismatches.append((name, answers))
    return mismatches


@pytest.mark.slow
def test_test_email_answers_as_pocketbase(programs: list[Any]) -> None:
    assert same_answers(programs, TEST_EMAIL, EMAIL_CASES) == []


@pytest.mark.slow
def test_apple_answers_as_pocketbase(programs: list[Any]) -> None:
    assert same_answers(programs, APPLE, APPLE_CASES) == []
    garbage = {**APPLE_FORM, "privateKey": pem(b"not a key")}
    status, body = programs[1].call("POST", APPLE, garbage)
    message = "Failed to generate client secret. Raw error: \nx509: failed to parse private key."
    assert (status, body["message"]) == (400, message)


def decode(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    header, claims, _ = token.split(".")
    return tuple(json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))) for part in (header, claims))  # type: ignore[return-value]


@pytest.mark.slow
def test_apple_client_secret_is_pocketbases(programs: list[Any]) -> None:
    before = int(time.time())
    secrets = []
    for program in programs:
        status, body = program.call("POST", APPLE, {**APPLE_FORM, "privateKey": "\n  " + P256_PEM})
        assert status == 200 and list(body) == ["secret"]
        secrets.append(body["secret"])
    real, ours = secrets
    # the same header and claims, byte for byte apart from the times and the signature
    assert ours.split(".")[0] == real.split(".")[0]
    assert decode(ours)[0] == {"alg": "ES256", "kid": "KEYID12345", "typ": "JWT"}
    claims = decode(ours)[1]
    assert list(claims) == list(decode(real)[1]) == ["iss", "sub", "aud", "exp", "iat"]
    assert before <= claims["iat"] <= int(time.time()) and claims["exp"] == claims["iat"] + 3600
    for secret in secrets:  # both verify with the public key
        verified = jwt.decode(secret, P256.public_key(), algorithms=["ES256"], audience="https://appleid.apple.com")
        assert verified["iss"] == "ABCDEFGHIJ" and verified["sub"] == "com.example.app"


@pytest.fixture(scope="module")
def inboxes(programs: list[Any]) -> Iterator[list[SmtpServer]]:
    """One SMTP server per program, set as its mail server (and the same meta settings)."""
    servers = [SmtpServer().start() for _ in programs]
    try:
        for program, server in zip(programs, servers, strict=True):
            assert program.call("PATCH", "/api/settings", server.settings())[0] == 200
        yield servers
    finally:
        for server in servers:
            server.stop()


TOKEN = re.compile(r"eyJ[\w-]+\.[\w-]+\.[\w-]+")
DATE = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}Z")


@pytest.mark.slow
@pytest.mark.parametrize("template", TEMPLATES)
def test_test_email_is_pocketbases_mail(programs: list[Any], inboxes: list[SmtpServer], template: str) -> None:
    mails = []
    for program, server in zip(programs, inboxes, strict=True):
        count = len(server.inbox.messages)
        status, _ = program.call("POST", TEST_EMAIL, {"email": "to@example.com", "template": template,
                                                       "collection": "users"})
        assert status == 204
        mails.append(server.inbox.wait(count + 1)[-1])
    real, ours = mails
    for header in ("To", "From", "Subject"):
        assert ours[header] == real[header], header
    # the text parts say the same (PocketBase's keeps some spaces at the ends of lines)
    real_text, ours_text = (" ".join(DATE.sub("DATE", TOKEN.sub("TOKEN", parts(mail)[0])).split()) for mail in mails)
    assert ours_text == real_text
    if template == "otp":
        assert "123456" in ours_text
    if template == "login-alert":
        assert "TEST_IP TEST_USER_AGENT" in ours_text


@pytest.mark.parametrize("path", [TEST_EMAIL, APPLE])
async def test_superusers_only(api: Any, headers: Any, path: str) -> None:
    guest = await api.simulate_request("POST", path, json={})
    assert guest.status_code == 401
    user = await api.simulate_request("POST", path, json={}, headers=headers["user"])
    assert user.status_code == 403


async def test_test_email_token_is_the_records_kind(api: Any, headers: Any, pbk_app: Any) -> None:
    server = SmtpServer().start()
    try:
        await pbk_app.settings.update(server.settings())
        result = await api.post(TEST_EMAIL, json={"email": "to@example.com", "template": "password-reset"},
                                headers=headers["superuser"])
        assert result.status_code == 204
        mail = server.inbox.wait(1)[0]
    finally:
        server.stop()
    assert mail["To"] == "to@example.com"
    token = TOKEN.search(parts(mail)[1])
    assert token is not None
    claims = jwt.decode(token.group(0), options={"verify_signature": False})
    superusers = pbk_app.services.get("record_store", "sqlite").collection("_superusers")
    assert (claims["type"], claims["collectionId"], claims["id"]) == ("passwordReset", superusers.id, "__pb_test_id__")
