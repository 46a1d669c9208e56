"""The SMTP mailer against a real SMTP server (aiosmtpd), its queue, retries and events."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from pbk_mailer import mailer as mailer_module
from pbk_mailer import smtp as smtp_module
from pbk_mailer.templates import html_to_text, render
from pbk_sdk import events
from pbk_sdk.interfaces import MailMessage
from smtp_server import SmtpServer, parts


@pytest.fixture
def pbk_plugins() -> list[str]:
    return ["mailer"]


@pytest.fixture
def mailer(pbk_app: Any) -> Any:
    return pbk_app.services.get("mailer", "smtp")


def message(**kwargs: Any) -> MailMessage:
    return MailMessage(to=[("Ada", "ada@example.com")], subject="Hello", html="<p>Hi <b>there</b></p>", **kwargs)


async def test_settings_defaults_are_pocketbases(pbk_app):
    assert pbk_app.settings.get("smtp") == {"enabled": False, "port": 587, "host": "smtp.example.com", "username": "",
                                            "authMethod": "", "tls": False, "localName": ""}
    assert pbk_app.settings.get("meta.senderAddress") == "support@example.com"
    assert pbk_app.settings.get("meta.appName") == "Acme"


async def test_sends_text_and_html_from_the_sender(pbk_app, mailer, smtp):
    await pbk_app.settings.update(smtp.settings())
    await mailer.send(message())
    assert await mailer.drain(10)
    [mail] = smtp.inbox.wait(1)
    assert mail["From"] == "Acme Support <support@app.test>"
    assert mail["To"] == "Ada <ada@example.com>"
    assert mail["Subject"] == "Hello"
    text, html = parts(mail)
    assert "<b>there</b>" in html and text.strip() == "Hi there"
    assert smtp.inbox.envelopes[0].mail_from == "support@app.test"


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
async def test_smtp_auth(pbk_app, mailer):
    server = SmtpServer(auth=("mailuser", "mailpass")).start()
    try:
        await pbk_app.settings.update(server.settings(username="mailuser", password="mailpass", authMethod="PLAIN"))
        await mailer.send(message())
        assert await mailer.drain(10)
        assert len(server.inbox.wait(1)) == 1
        await pbk_app.settings.update({"smtp": {"password": "wrong", "authMethod": ""}})
        await mailer.send(message())
        assert await mailer.drain(10)
        assert len(server.inbox.messages) == 1
        assert "535" in mailer.failed[-1][1] or "Authentication" in mailer.failed[-1][1]
    finally:
        server.stop()


async def test_send_never_waits_on_smtp_and_transient_failures_are_retried(pbk_app, mailer, smtp, monkeypatch):
    monkeypatch.setattr(mailer_module, "RETRY_DELAYS", (0.05, 0.05, 0.05))
    await pbk_app.settings.update(smtp.settings())
    smtp.inbox.fail_next = ["451 Try again later", "421 Busy"]
    await asyncio.wait_for(mailer.send(message()), 0.5)
    assert await mailer.drain(10)
    assert len(smtp.inbox.wait(1)) == 1


async def test_unreachable_server_is_logged_not_lost_silently(pbk_app, mailer, monkeypatch, caplog):
    monkeypatch.setattr(mailer_module, "RETRY_DELAYS", (0.01,))
    from pbk_sdk.testing import free_port
    await pbk_app.settings.update({"smtp": {"enabled": True, "host": "127.0.0.1", "port": free_port()}})
    with caplog.at_level(logging.WARNING, logger="pbk.mailer"):
        await mailer.send(message())
        assert await mailer.drain(10)
    assert "was not delivered" in caplog.text and "ada@example.com" in caplog.text
    assert mailer.failed and mailer.failed[-1][0].subject == "Hello"


async def test_mail_send_handlers_change_or_cancel_and_after_send_fires(pbk_app, mailer, smtp):
    await pbk_app.settings.update(smtp.settings())
    delivered: list[str] = []

    async def edit(e):
        if e.message.subject == "cancel me":
            e.cancelled = True
            return
        e.message.subject = "[edited] " + e.message.subject
        await e.next()

    async def after(e):
        delivered.append(e.message.subject)
        await e.next()

    pbk_app.events.on(events.MAIL_SEND, edit)
    pbk_app.events.on(events.MAIL_AFTER_SEND, after)
    await mailer.send(MailMessage(to=[("", "x@example.com")], subject="cancel me", text="x"))
    await mailer.send(message())
    assert await mailer.drain(10)
    [mail] = smtp.inbox.wait(1)
    assert mail["Subject"] == "[edited] Hello"
    assert delivered == ["[edited] Hello"]


async def test_disabled_smtp_without_sendmail_logs_and_drops(pbk_app, mailer, monkeypatch, caplog):
    monkeypatch.setattr(smtp_module.shutil, "which", lambda name: None)
    with caplog.at_level(logging.WARNING, logger="pbk.mailer"):
        await mailer.send(message())
        assert await mailer.drain(10)
    assert "SMTP is disabled" in caplog.text


async def test_compose_fills_pocketbase_placeholders(pbk_app, mailer):
    await pbk_app.settings.update({"meta": {"appName": "Zed & Co", "appURL": "http://zed.test/"}})
    template = {"subject": "Hi {APP_NAME} {RECORD:name}",
                "body": "<p>{APP_URL}/x/{TOKEN} {OTP} {OTP_ID} {ALERT_INFO} {RECORD:name} [{RECORD:password}]</p>"}
    mail = mailer.compose(template, to=[("", "a@example.com")],
                          params={"TOKEN": "tok", "OTP": "123", "OTP_ID": "oid", "ALERT_INFO": "info"},
                          record={"name": "<Ada>", "password": "secret"})
    assert mail.subject == "Hi Zed & Co <Ada>"
    assert "http://zed.test/x/tok 123 oid info &lt;Ada&gt; []" in mail.html
    assert mail.html.startswith("<!DOCTYPE html") and mail.sender == ("Support", "support@example.com")
    assert "&lt;Ada&gt;" not in mail.text and "<Ada>" in mail.text


def test_html_to_text_keeps_links_like_pocketbase():
    assert html_to_text('<p>Hello,</p><p><a class="btn" href="http://x/y">Verify</a></p>') == "Hello,\n[Verify](http://x/y)"
    assert render("{RECORD:missing}{APP_NAME}", {"APP_NAME": "A"}, {}) == "A"
