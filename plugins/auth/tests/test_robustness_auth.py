"""Differential tests against the real PocketBase binary: impersonation durations, the last
superuser, auth option validation, the email-change and refresh refusals, the health details, the
email format and length the request forms and password sign-in check."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import orjson
import pytest
from pbk_sdk.testing import pocketbase_and_pbk
from smtp_server import SmtpServer

pytestmark = pytest.mark.slow

PLUGINS = ["records", "auth", "mailer", "settings"]


@dataclass
class Server:
    """One running program, its superuser's token and a user ``ada`` with her token."""

    name: str
    url: str
    root: str
    ada_id: str
    ada: str

    def call(self, method: str, path: str, *, token: str | None = None, headers: dict[str, str] | None = None,
             **kwargs: Any) -> httpx.Response:
        sent = {**(headers or {}), **({"Authorization": token} if token else {})}
        return httpx.request(method, self.url + path, headers=sent, timeout=30, **kwargs)


def _with_user(name: str, url: str, root: str) -> Server:
    created = httpx.post(f"{url}/api/collections/users/records", headers={"Authorization": root},
                         json={"email": "ada@example.com", "password": "ada-password",
                               "passwordConfirm": "ada-password"}, timeout=30)
    assert created.status_code == 200, created.text
    signed_in = httpx.post(f"{url}/api/collections/users/auth-with-password",
                           json={"identity": "ada@example.com", "password": "ada-password"}, timeout=30)
    return Server(name, url, root, created.json()["id"], signed_in.json()["token"])


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[Server]]:
    """PocketBase first, then pbk, each with one superuser and the user ada."""
    with pocketbase_and_pbk(tmp_path_factory.mktemp("robustness"), PLUGINS) as programs:
        yield [_with_user(program.name, program.url, program.token) for program in programs]


def answers(servers: list[Server], method: str, path: str, who: str = "root", **kwargs: Any) -> list[Any]:
    """(status, body) from each program; ``who`` is ``root``, ``ada`` or ``guest``."""
    results = []
    for server in servers:
        token = {"root": server.root, "ada": server.ada, "guest": None}[who]
        response = server.call(method, path.format(ada=server.ada_id), token=token, **kwargs)
        results.append((response.status_code, response.json() if response.content else None))
    return results


@pytest.mark.parametrize("duration", [1e30, 1.5, 9e18, -1, "5", True, 2**63])
def test_impersonate_refuses_what_pocketbase_cannot_read(servers: list[Server], duration: Any) -> None:
    real, ours = answers(servers, "POST", "/api/collections/users/impersonate/{ada}",
                         content=orjson.dumps({"duration": duration}) if duration != 2**63 else
                         b'{"duration": 9223372036854775808}',
                         headers={"Content-Type": "application/json"})
    assert ours == real and real[0] == 400


@pytest.mark.parametrize("duration", [0, 2**63 - 1, 10**12, None])
def test_impersonate_accepts_any_int64_duration(servers: list[Server], duration: Any) -> None:
    for server in servers:
        response = server.call("POST", f"/api/collections/users/impersonate/{server.ada_id}",
                               token=server.root, json={"duration": duration})
        assert response.status_code == 200, (server.name, response.text)


def test_the_only_superuser_stays(servers: list[Server]) -> None:
    real, ours = (
        (s.call("GET", "/api/collections/_superusers/records", token=s.root).json()["items"], s)
        for s in servers
    )
    results = [server.call("DELETE", f"/api/collections/_superusers/records/{items[0]['id']}",
                           token=server.root) for items, server in (real, ours)]
    assert [(r.status_code, r.json()) for r in results] == [
        (400, {"data": {}, "message": "You can't delete the only existing superuser.", "status": 400})
    ] * 2
    for server in servers:  # with a second one, either may go
        second = server.call("POST", "/api/collections/_superusers/records", token=server.root,
                             json={"email": "two@example.com", "password": "1234567890", "passwordConfirm": "1234567890"})
        assert second.status_code == 200, second.text
        gone = server.call("DELETE", f"/api/collections/_superusers/records/{second.json()['id']}", token=server.root)
        assert gone.status_code == 204, (server.name, gone.text)


def test_otp_on_superusers_switches_mfa_on(servers: list[Server]) -> None:
    real, ours = answers(servers, "PATCH", "/api/collections/_superusers", json={"otp": {"enabled": True}})
    assert real[0] == ours[0] == 200
    assert ours[1]["mfa"] == real[1]["mfa"] and real[1]["mfa"]["enabled"] is True
    assert ours[1]["oauth2"]["enabled"] is real[1]["oauth2"]["enabled"] is False
    answers(servers, "PATCH", "/api/collections/_superusers", json={"otp": {"enabled": False}, "mfa": {"enabled": False}})


HANDLE = {"name": "handle", "type": "text"}
BAD_OPTIONS = {
    "identity field without a unique index": {"fields": [HANDLE], "passwordAuth": {"identityFields": ["email", "handle"]}},
    "unknown identity field": {"passwordAuth": {"identityFields": ["nope"]}},
    "no identity field": {"passwordAuth": {"enabled": True, "identityFields": []}},
    "short otp": {"otp": {"enabled": True, "duration": 5, "length": 2}},
    "long mfa": {"mfa": {"enabled": True, "duration": 86401}, "otp": {"enabled": True}},
    "mfa with one method": {"mfa": {"enabled": True}},
    "token durations": {"authToken": {"duration": 5}, "fileToken": {"duration": 10**9}, "verificationToken": {"duration": 0}},
    "templates without subject": {"verificationTemplate": {"subject": "", "body": "x"},
                                  "otp": {"emailTemplate": {"subject": "", "body": ""}},
                                  "authAlert": {"emailTemplate": {"subject": "Hi", "body": ""}}},
}


@pytest.mark.parametrize("case", BAD_OPTIONS)
def test_auth_options_are_validated_as_pocketbase_does(servers: list[Server], case: str) -> None:
    name = "opts_" + "".join(c if c.isalnum() else "_" for c in case)
    real, ours = answers(servers, "POST", "/api/collections", json={"name": name, "type": "auth", **BAD_OPTIONS[case]})
    assert real[0] == 400, real
    assert ours == real


def test_a_unique_identity_field_and_two_mfa_methods_are_accepted(servers: list[Server]) -> None:
    body = {"name": "opts_fine", "type": "auth", "fields": [HANDLE],
            "indexes": ["CREATE UNIQUE INDEX idx_handle ON opts_fine (handle)"],
            "passwordAuth": {"identityFields": ["email", "handle"]},
            "mfa": {"enabled": True}, "otp": {"enabled": True, "duration": 10, "length": 4}}
    real, ours = answers(servers, "POST", "/api/collections", json=body)
    assert real[0] == ours[0] == 200, (real, ours)


@pytest.mark.parametrize("new_email", ["not-an-email", "a" * 300 + "@example.com", "", "ada@example.com",
                                       "root@example.com"])
def test_request_email_change_errors(servers: list[Server], new_email: str) -> None:
    real, ours = answers(servers, "POST", "/api/collections/users/request-email-change", who="ada",
                         json={"newEmail": new_email})
    assert ours == real


def test_request_email_change_reports_a_refused_mail(servers: list[Server]) -> None:
    smtp = SmtpServer().start()
    try:
        answers(servers, "PATCH", "/api/settings", json=smtp.settings())
        smtp.inbox.fail_next = ["550 mailbox unavailable"] * len(servers)
        real, ours = answers(servers, "POST", "/api/collections/users/request-email-change", who="ada",
                             json={"newEmail": "refused@example.com"})
        assert ours == real == (400, {"data": {}, "message": "Failed to request email change.", "status": 400})
        real, ours = answers(servers, "POST", "/api/collections/users/request-email-change", who="ada",
                             json={"newEmail": "taken@example.com"})
        assert ours == real == (204, None)
        assert len(smtp.inbox.wait(2)) == 2, "each answered once its mail was delivered"
    finally:
        answers(servers, "PATCH", "/api/settings", json={"smtp": {"enabled": False}})
        smtp.stop()


@pytest.mark.parametrize("app_name", ["   ", "Acme"])
def test_the_otp_mail_subject(servers: list[Server], app_name: str) -> None:
    smtp = SmtpServer().start()
    try:
        settings = smtp.settings()
        settings["meta"]["appName"] = app_name
        for (status, body) in answers(servers, "PATCH", "/api/settings", json=settings):
            assert status == 200, body
        answers(servers, "PATCH", "/api/collections/users", json={"otp": {"enabled": True}})
        for (status, body) in answers(servers, "POST", "/api/collections/users/request-otp",
                                      json={"email": "ada@example.com"}):
            assert status == 200, body
        real, ours = smtp.inbox.wait(2, timeout=20)
        assert ours["Subject"] == real["Subject"]
    finally:
        answers(servers, "PATCH", "/api/collections/users", json={"otp": {"enabled": False}})
        answers(servers, "PATCH", "/api/settings", json={"smtp": {"enabled": False}})
        smtp.stop()


def test_refusals_name_the_callers_collection(servers: list[Server]) -> None:
    for path in ("/api/collections/_superusers/auth-refresh", "/api/collections/_superusers/request-email-change"):
        real, ours = answers(servers, "POST", path, who="ada", json={"newEmail": "x@example.com"})
        assert ours == real and real[1]["message"] == "The request requires auth record from users collection."
    real, ours = answers(servers, "POST", "/api/collections/_superusers/request-email-change",
                         json={"newEmail": "x@example.com"})
    assert ours == real and real[0] == 400


def test_health_details_for_superusers(servers: list[Server]) -> None:
    for who, expected_keys in (("guest", set()), ("ada", set()), ("root", {"canBackup", "realIP", "possibleProxyHeader"})):
        real, ours = answers(servers, "GET", "/api/health", who=who)
        assert ours == real and set(real[1]["data"]) == expected_keys
    for header in ("CF-Connecting-IP", "Fly-Client-IP", "X-Forwarded-For"):
        real, ours = answers(servers, "GET", "/api/health", headers={header: "10.1.2.3"})
        # realIP aside: which proxies to trust is the trustedProxy setting's business
        assert ours[1]["data"]["possibleProxyHeader"] == real[1]["data"]["possibleProxyHeader"] == header
        assert ours[1]["data"]["canBackup"] is real[1]["data"]["canBackup"] is True


#: Addresses govalidator (``is.EmailFormat``) and a simple ``x@y.z`` check disagree on, and lengths.
TRICKY_EMAILS = [
    '"a"b"@example.com', '" a "@example.com', '"@example.com', '"ab"@example.com', '"a b"@example.com',
    "a@b", "ü@ñ.de", "a@b.co.", "a..b@example.com", "a@-b.co", "a" * 250 + "@example.com",
    "é" * 126 + "@x.co", "é" * 125 + "@x.co",  # 257 and 255 bytes: ozzo's Length counts bytes
]
EMAIL_FORMS = [("request-verification", "email"), ("request-password-reset", "email"), ("request-otp", "email")]


def test_request_forms_check_emails_as_pocketbase(servers: list[Server]) -> None:
    answers(servers, "PATCH", "/api/collections/users", json={"otp": {"enabled": True}})
    try:
        for (form, field), email in ((form, email) for form in EMAIL_FORMS for email in TRICKY_EMAILS):
            real, ours = answers(servers, "POST", f"/api/collections/users/{form}", who="guest", json={field: email})
            if real[0] == 200:  # a new otpId each time
                real, ours = (real[0], sorted(real[1])), (ours[0], sorted(ours[1]))
            assert ours == real, (form, email)
            real, ours = answers(servers, "POST", "/api/collections/users/request-email-change", who="ada",
                                 json={"newEmail": email})
            if real[0] != 204:  # a valid one is mailed (or not) as the settings say: not the point here
                assert ours == real, ("request-email-change", email)
    finally:
        answers(servers, "PATCH", "/api/collections/users", json={"otp": {"enabled": False}})


@pytest.mark.parametrize("email", ['" a "@example.com', '"a"b"@example.com', "ü@ñ.de", "a@b.co."])
def test_an_odd_but_valid_email_signs_in(servers: list[Server], email: str) -> None:
    """auth-with-password looks an identity up by email only when it is ``is.EmailFormat``."""
    for server in servers:
        created = server.call("POST", "/api/collections/users/records", token=server.root,
                              json={"email": email, "password": "odd-password", "passwordConfirm": "odd-password"})
        assert created.status_code == 200, (server.name, created.text)
        signed_in = server.call("POST", "/api/collections/users/auth-with-password",
                                json={"identity": email, "password": "odd-password"})
        assert signed_in.status_code == 200, (server.name, signed_in.text)
        assert server.call("DELETE", f"/api/collections/users/records/{created.json()['id']}",
                           token=server.root).status_code == 204
