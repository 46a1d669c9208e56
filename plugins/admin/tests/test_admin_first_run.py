"""First run in a real browser: the installer link creates the first superuser, sign-in and
sign-out, the remembered session, and the pages the links of the default mails open."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from browser_support import screenshot
from dashboard_server import create_record, serve_prepared
from pbk_sdk.testing import LiveServer
from playwright.sync_api import expect
from smtp_server import SmtpServer, find_otp, parts

ROOT = ("root@example.com", "root-password-1")
USER = ("ada@example.com", "ada-password-1")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, smtp: SmtpServer) -> Iterator[LiveServer]:
    async def prepare(app: Any, url: str) -> None:
        await app.settings.update({**smtp.settings(), "meta": {**smtp.settings()["meta"], "appURL": url}})
        await create_record(app, "users", {"email": USER[0], "password": USER[1]})

    live = serve_prepared(tmp_path_factory.mktemp("first-run") / "pb_data", prepare)
    yield live
    live.stop()


def installer_link(server: LiveServer) -> str:
    deadline = time.monotonic() + 10
    while not (found := re.search(r"http://\S+/_/#/pbinstall/\S+", server.output())):
        assert time.monotonic() < deadline, server.output()
        time.sleep(0.05)
    return found.group(0)


def mail_link(smtp: SmtpServer, count: int, kind: str) -> str:
    _, html = parts(smtp.inbox.wait(count, timeout=15)[count - 1])
    found = re.search(rf'href="(http[^"]+/_/#/auth/{kind}/[^"]+)"', html)
    assert found, html
    return found.group(1)


def sign_in(server: LiveServer, email: str, password: str, collection: str = "users") -> httpx.Response:
    return httpx.post(f"{server.url}/api/collections/{collection}/auth-with-password",
                      json={"identity": email, "password": password})


def test_installer_then_sign_out_and_in(server: LiveServer, page: Any) -> None:
    page.goto(installer_link(server))
    page.get_by_label("Email").fill(ROOT[0])
    page.get_by_label("Password", exact=True).fill(ROOT[1])
    page.get_by_label("Password confirm").fill(ROOT[1])
    screenshot(page, "installer")
    page.get_by_role("button", name="Create superuser and sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    superusers = httpx.get(f"{server.url}/api/collections/_superusers/records",
                           headers={"Authorization": sign_in(server, *ROOT, "_superusers").json()["token"]})
    assert [item["email"] for item in superusers.json()["items"]] == [ROOT[0]], "the installer is gone"

    with page.expect_response(lambda answer: answer.url.endswith("/auth-refresh")) as refreshed:
        page.reload()
    assert refreshed.value.status == 200, "the remembered session is refreshed on load"
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Superuser sign-in")).to_be_visible()
    page.reload()
    expect(page.get_by_role("heading", name="Superuser sign-in")).to_be_visible()
    page.get_by_label("Email").fill(ROOT[0])
    page.get_by_label("Password").fill("not-the-password")
    with page.watch.expect(400):
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_text("Failed to authenticate.")).to_be_visible()
    page.get_by_label("Password").fill(ROOT[1])
    screenshot(page, "sign-in")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def test_mail_links_confirm_verification_reset_and_email_change(
    server: LiveServer, smtp: SmtpServer, page: Any
) -> None:
    api = f"{server.url}/api/collections/users"
    sent = len(smtp.inbox.messages)
    httpx.post(f"{api}/request-verification", json={"email": USER[0]}).raise_for_status()
    page.goto(mail_link(smtp, sent + 1, "confirm-verification"))
    expect(page.get_by_text("Your email address is verified.")).to_be_visible()
    assert sign_in(server, *USER).json()["record"]["verified"] is True

    httpx.post(f"{api}/request-password-reset", json={"email": USER[0]}).raise_for_status()
    page.goto(mail_link(smtp, sent + 2, "confirm-password-reset"))
    new_password = "ada-new-password-2"
    page.get_by_label("New password", exact=True).fill(new_password)
    page.get_by_label("New password confirm").fill(new_password)
    screenshot(page, "confirm-password-reset")
    page.get_by_role("button", name="Set new password").click()
    expect(page.get_by_text("Your password is changed.")).to_be_visible()
    assert sign_in(server, USER[0], new_password).status_code == 200
    assert sign_in(server, *USER).status_code == 400

    token = sign_in(server, USER[0], new_password).json()["token"]
    httpx.post(f"{api}/request-email-change", json={"newEmail": "ada@new.example.com"},
               headers={"Authorization": token}).raise_for_status()
    page.goto(mail_link(smtp, sent + 3, "confirm-email-change"))
    expect(page.get_by_text("ada@new.example.com")).to_be_visible()
    page.get_by_label("Your password").fill(new_password)
    page.get_by_role("button", name="Confirm new email").click()
    expect(page.get_by_text("Your email address is changed")).to_be_visible()
    assert sign_in(server, "ada@new.example.com", new_password).status_code == 200


@pytest.fixture
def root_token(server: LiveServer) -> str:
    """The first superuser's token; created through the installer link if the installer test
    did not run first."""
    answer = sign_in(server, *ROOT, "_superusers")
    if answer.status_code != 200:
        installer = installer_link(server).rsplit("/", 1)[1]
        httpx.post(f"{server.url}/api/collections/_superusers/records", headers={"Authorization": installer},
                   json={"email": ROOT[0], "password": ROOT[1], "passwordConfirm": ROOT[1]}).raise_for_status()
        answer = sign_in(server, *ROOT, "_superusers")
    return str(answer.json()["token"])


def test_sign_in_with_a_one_time_code_then_the_password(
    server: LiveServer, smtp: SmtpServer, root_token: str, page: Any
) -> None:
    """With OTP on, superusers also need MFA (as PocketBase): the code first, then the password."""
    superusers = f"{server.url}/api/collections/_superusers"
    headers = {"Authorization": root_token}
    httpx.patch(superusers, headers=headers, json={"otp": {"enabled": True}}).raise_for_status()
    try:
        sent = len(smtp.inbox.messages)
        page.goto(server.url + "/_/")
        page.get_by_label("Email").fill(ROOT[0])
        page.get_by_role("button", name="Send a one-time code").click()
        smtp.inbox.wait(sent + 1)
        page.get_by_role("button", name="Send a new code").click()
        code = find_otp(smtp.inbox.wait(sent + 2)[sent + 1])
        page.get_by_label(f"One-time code sent to {ROOT[0]}").fill(code)
        with page.watch.expect(401):
            page.get_by_role("button", name="Sign in").click()
            expect(page.get_by_role("heading", name="Second step: password")).to_be_visible()
        page.get_by_label("Password", exact=True).fill(ROOT[1])
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    finally:
        httpx.patch(superusers, headers=headers, json={"otp": {"enabled": False}, "mfa": {"enabled": False}})


def test_sign_in_with_password_then_one_time_code_when_mfa_is_on(
    server: LiveServer, smtp: SmtpServer, root_token: str, page: Any
) -> None:
    superusers = f"{server.url}/api/collections/_superusers"
    headers = {"Authorization": root_token}
    httpx.patch(superusers, headers=headers, json={"otp": {"enabled": True}, "mfa": {"enabled": True}}).raise_for_status()
    try:
        sent = len(smtp.inbox.messages)
        page.goto(server.url + "/_/")
        page.get_by_label("Email").fill(ROOT[0])
        page.get_by_label("Password").fill(ROOT[1])
        with page.watch.expect(401):
            page.get_by_role("button", name="Sign in").click()
            expect(page.get_by_role("heading", name="Second step: one-time code")).to_be_visible()
        page.get_by_label(f"One-time code sent to {ROOT[0]}").fill(find_otp(smtp.inbox.wait(sent + 1)[sent]))
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    finally:
        httpx.patch(superusers, headers=headers, json={"otp": {"enabled": False}, "mfa": {"enabled": False}})


def test_forgotten_superuser_password(server: LiveServer, smtp: SmtpServer, root_token: str, page: Any) -> None:
    page.goto(server.url + "/_/")
    page.get_by_role("link", name="Forgotten password?").click()
    page.get_by_label("Email").fill(ROOT[0])
    sent = len(smtp.inbox.messages)
    page.get_by_role("button", name="Send the reset link").click()
    expect(page.get_by_text(f"If {ROOT[0]} is a superuser")).to_be_visible()
    page.goto(mail_link(smtp, sent + 1, "confirm-password-reset"))
    page.get_by_label("New password", exact=True).fill("root-password-2")
    page.get_by_label("New password confirm").fill("root-password-2")
    page.get_by_role("button", name="Set new password").click()
    expect(page.get_by_text("Your password is changed.")).to_be_visible()
    answer = sign_in(server, ROOT[0], "root-password-2", "_superusers")
    assert answer.status_code == 200
    httpx.patch(f"{server.url}/api/collections/_superusers/records/{answer.json()['record']['id']}",
                headers={"Authorization": answer.json()["token"]},
                json={"password": ROOT[1], "passwordConfirm": ROOT[1]}).raise_for_status()


def test_the_session_is_refreshed_before_the_token_expires(
    server: LiveServer, root_token: str, page: Any
) -> None:
    superusers = f"{server.url}/api/collections/_superusers"
    headers = {"Authorization": root_token}
    duration = httpx.get(superusers, headers=headers).json()["authToken"]["duration"]
    httpx.patch(superusers, headers=headers, json={"authToken": {"duration": 10}}).raise_for_status()
    try:
        page.goto(server.url + "/_/")
        page.get_by_label("Email").fill(ROOT[0])
        page.get_by_label("Password").fill(ROOT[1])
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("button", name="Sign out")).to_be_visible()
        signed_in = time.monotonic()
        # A 10-second token (the shortest allowed) is refreshed halfway, with no action in the page.
        with page.expect_response(lambda answer: answer.url.endswith("/auth-refresh"), timeout=8000) as refreshed:
            pass
        assert refreshed.value.status == 200
        assert time.monotonic() - signed_in > 3, "refreshed at once, not halfway"
    finally:
        httpx.patch(superusers, headers=headers, json={"authToken": {"duration": duration}})


@pytest.mark.parametrize(("page_name", "text"), [
    ("success", "Auth completed. You can close this window and go back to the app."),
    ("failure", "Failed to authenticate. You can close this window and go back to the app to try again."),
], ids=["success", "failure"])
def test_oauth2_redirect_pages_open_without_sign_in(server: LiveServer, page: Any, page_name: str, text: str) -> None:
    page.goto(f"{server.url}/_/#/auth/oauth2-redirect-{page_name}")
    expect(page.get_by_text(text)).to_be_visible()
    expect(page.get_by_role("button", name="Sign in")).to_have_count(0)


def test_installer_link_refused_by_the_server_says_so(server: LiveServer, root_token: str, page: Any) -> None:
    """A token the server does not take for the installer's (here a user's) gets the expired
    link's message, not a toast; the e-mail field has the focus from the start."""
    other = ("grace@example.com", "grace-password-1")
    httpx.post(f"{server.url}/api/collections/users/records", headers={"Authorization": root_token},
               json={"email": other[0], "password": other[1], "passwordConfirm": other[1]}).raise_for_status()
    user_token = sign_in(server, *other).json()["token"]
    page.goto(f"{server.url}/_/#/pbinstall/{user_token}")
    expect(page.get_by_label("Email")).to_be_focused()
    page.get_by_label("Email").fill("intruder@example.com")
    page.get_by_label("Password", exact=True).fill(ROOT[1])
    page.get_by_label("Password confirm").fill(ROOT[1])
    with page.watch.expect(403):
        page.get_by_role("button", name="Create superuser and sign in").click()
        expect(page.get_by_text("The installer link is invalid or has expired.")).to_be_visible()
    page.get_by_role("link", name="Sign in").click()
    expect(page.get_by_label("Email")).to_be_focused()
