"""The auth plugin's limits hold across two ``pbk serve`` nodes sharing a PostgreSQL database:
the five failed OTP attempts per record, and one verification mail per record per two minutes,
whichever node each request reaches."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest
from pbk_sdk.testing.nodes import Node, running_nodes
from smtp_server import SmtpServer

pytestmark = pytest.mark.slow
PLUGINS = ["records", "auth", "mailer", "settings"]
ADA = {"email": "ada@example.com", "password": "ada-password", "passwordConfirm": "ada-password"}


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer().start()
    yield server
    server.stop()


@pytest.fixture
def nodes(tmp_path, postgres_url, smtp) -> Iterator[list[Node]]:
    with running_nodes(tmp_path, postgres_url, PLUGINS) as nodes:
        a = nodes[0]
        headers = {"Authorization": a.token}
        for method, path, body in (
            ("PATCH", "/api/settings", smtp.settings()),
            ("PATCH", "/api/collections/users", {"otp": {"enabled": True}}),
            ("POST", "/api/collections/users/records", ADA),
        ):
            answer = httpx.request(method, a.url + path, headers=headers, json=body, timeout=30)
            assert answer.status_code == 200, answer.text
        yield nodes


def test_otp_attempts_are_limited_across_nodes(nodes):
    a, b = nodes
    asked = httpx.post(f"{a.url}/api/collections/users/request-otp", json={"email": ADA["email"]}, timeout=30)
    assert asked.status_code == 200, asked.text
    guess = {"otpId": asked.json()["otpId"], "password": "00000000"}
    statuses = [httpx.post(f"{node.url}/api/collections/users/auth-with-otp", json=guess, timeout=30).status_code
                for node in (a, b, a, b, a, b)]
    assert statuses == [400] * 5 + [429]


def test_the_verification_mail_is_throttled_across_nodes(nodes, smtp):
    a, b = nodes
    for node, path in ((a, "request-verification"), (b, "request-verification"), (b, "request-password-reset")):
        answer = httpx.post(f"{node.url}/api/collections/users/{path}", json={"email": ADA["email"]}, timeout=30)
        assert answer.status_code == 204, answer.text
    smtp.inbox.wait(2, timeout=15)
    time.sleep(1)  # a second verification mail, sent by mistake, would be here by now
    subjects = sorted(mail["Subject"] for mail in smtp.inbox.messages)
    assert subjects == ["Reset your Acme Test password", "Verify your Acme Test email"], subjects
