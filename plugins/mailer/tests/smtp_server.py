"""A real SMTP server for tests: aiosmtpd on 127.0.0.1 and a free port, keeping what it receives."""

from __future__ import annotations

import email
import email.policy
import re
import threading
import time
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from pbk_sdk.testing import free_port


class Inbox:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[Any] = []
        self.fail_next: list[str] = []  # SMTP answers to give instead of accepting (e.g. "451 later")
        self.condition = threading.Condition()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.fail_next:
            return self.fail_next.pop(0)
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.condition:
            self.messages.append(message)  # type: ignore[arg-type]
            self.envelopes.append(envelope)
            self.condition.notify_all()
        return "250 OK"

    def wait(self, count: int = 1, timeout: float = 10.0) -> list[EmailMessage]:
        deadline = time.monotonic() + timeout
        with self.condition:
            while len(self.messages) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"expected {count} mail(s), got {len(self.messages)}")
                self.condition.wait(left)
            return list(self.messages)

    def last(self) -> EmailMessage:
        return self.wait(len(self.messages) or 1)[-1]


def parts(message: EmailMessage) -> tuple[str, str]:
    """(text, html) of a message."""
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    return (text.get_content() if text else "", html.get_content() if html else "")


def find_token(message: EmailMessage, kind: str) -> str:
    """The JWT after ``.../auth/<kind>/`` in the HTML part."""
    _, html = parts(message)
    match = re.search(rf"/auth/{kind}/([A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+)", html)
    assert match, html
    return match.group(1)


def find_otp(message: EmailMessage) -> str:
    text, _ = parts(message)
    match = re.search(r"one-time password is: (\d+)", text)
    assert match, text
    return match.group(1)


class SmtpServer:
    def __init__(self, *, auth: tuple[str, str] | None = None) -> None:
        self.inbox = Inbox()
        self.port = free_port()
        kwargs: dict[str, Any] = {}
        if auth is not None:
            def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
                ok = isinstance(data, LoginPassword) and (data.login.decode(), data.password.decode()) == auth
                return AuthResult(success=ok, handled=False)
            kwargs = {"authenticator": authenticator, "auth_require_tls": False, "auth_required": True}
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port, **kwargs)

    def start(self) -> SmtpServer:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

    def settings(self, **extra: Any) -> dict[str, Any]:
        return {"smtp": {"enabled": True, "host": "127.0.0.1", "port": self.port, "tls": False, **extra},
                "meta": {"appName": "Acme Test", "appURL": "http://app.test", "senderName": "Acme Support",
                         "senderAddress": "support@app.test"}}
