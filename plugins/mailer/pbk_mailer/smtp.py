"""Handing one message to the mail server: the MIME message, the SMTP connection (implicit TLS
or STARTTLS, PLAIN/LOGIN auth, EHLO name) and which failures are worth retrying; with SMTP
disabled, a local ``sendmail``, as PocketBase does. Blocking code, run on worker threads by
``mailer.SmtpMailer``.
"""

from __future__ import annotations

import logging
import shutil
import smtplib
import ssl
import subprocess
from collections.abc import Mapping
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid
from typing import Any

from pbk_sdk.interfaces import MailMessage

from . import templates

log = logging.getLogger("pbk.mailer")

#: PocketBase's ``smtp`` settings section (``password`` is read when present, never declared).
SMTP_DEFAULTS: dict[str, Any] = {
    "enabled": False,
    "port": 587,
    "host": "smtp.example.com",
    "username": "",
    "authMethod": "",
    "tls": False,
    "localName": "",
}
SMTP_TIMEOUT = 15.0


class TransientError(Exception):
    """A failure worth retrying (connection trouble, a 4xx answer)."""


def build_email(message: MailMessage, local_name: str = "") -> EmailMessage:
    """The MIME message: multipart/alternative text + HTML, attachments, extra headers."""
    mail = EmailMessage()
    mail["From"] = formataddr(message.sender)
    mail["To"] = ", ".join(formataddr(addr) for addr in message.to)
    if message.cc:
        mail["Cc"] = ", ".join(formataddr(addr) for addr in message.cc)
    mail["Subject"] = message.subject
    mail["Date"] = formatdate(localtime=False)
    domain = (message.sender[1].rpartition("@")[2] or local_name or None) if message.sender[1] else None
    mail["Message-ID"] = make_msgid(domain=domain)
    for name, value in message.headers.items():
        if name in mail:
            del mail[name]
        mail[name] = value
    text = message.text or (templates.html_to_text(message.html) if message.html else "")
    mail.set_content(text)
    if message.html:
        mail.add_alternative(message.html, subtype="html")
    for filename, data in message.attachments.items():
        mail.add_attachment(data, maintype="application", subtype="octet-stream", filename=filename)
    return mail


def recipients(message: MailMessage) -> list[str]:
    return [addr for _, addr in (*message.to, *message.cc, *message.bcc) if addr]


def deliver(settings: Mapping[str, Any], message: MailMessage) -> bool:
    """Send one message now with the ``smtp`` settings (blocking: call it on a thread).

    True when handed over; False when dropped (SMTP disabled and no ``sendmail``). Raises
    ``TransientError`` for failures worth retrying, anything else for permanent ones.
    """
    smtp = {**SMTP_DEFAULTS, **settings}
    mail = build_email(message, str(smtp.get("localName") or ""))
    to = recipients(message)
    if not smtp.get("enabled"):
        return _sendmail(mail, to, message)
    try:
        with _open(smtp) as client:
            _greet(client, smtp)
            refused = client.send_message(mail, from_addr=message.sender[1], to_addrs=to)
            if refused:
                log.warning("mail %r: recipients refused: %s", message.subject, refused)
    except smtplib.SMTPResponseException as error:
        if 400 <= error.smtp_code < 500:
            raise TransientError(f"{error.smtp_code} {error.smtp_error!r}") from error
        raise
    except smtplib.SMTPRecipientsRefused as error:
        codes = [code for code, _ in error.recipients.values()]
        if codes and all(400 <= code < 500 for code in codes):
            raise TransientError(f"recipients refused {error.recipients}") from error
        raise
    except (smtplib.SMTPServerDisconnected, smtplib.SMTPConnectError, ConnectionError, TimeoutError, OSError) as error:
        if isinstance(error, ssl.SSLCertVerificationError):
            raise
        raise TransientError(f"{type(error).__name__}: {error}") from error
    return True


def _open(smtp: Mapping[str, Any]) -> smtplib.SMTP:
    """A connection to the server: implicit TLS with ``tls``, else plain (see ``_greet``)."""
    host, port = str(smtp.get("host") or ""), int(smtp.get("port") or 0)
    local_name = str(smtp.get("localName") or "") or None
    if smtp.get("tls"):
        return smtplib.SMTP_SSL(
            host, port, local_hostname=local_name, timeout=SMTP_TIMEOUT, context=ssl.create_default_context()
        )
    return smtplib.SMTP(host, port, local_hostname=local_name, timeout=SMTP_TIMEOUT)


def _greet(client: smtplib.SMTP, smtp: Mapping[str, Any]) -> None:
    """EHLO, STARTTLS whenever a plain connection is offered it (as Go's mailer does), and
    the login: ``authMethod`` ``PLAIN`` or ``LOGIN`` forces that mechanism, ``""`` lets
    smtplib pick."""
    client.ehlo()
    if not smtp.get("tls") and client.has_extn("starttls"):
        client.starttls(context=ssl.create_default_context())
        client.ehlo()
    username = str(smtp.get("username") or "")
    if username:
        method = str(smtp.get("authMethod") or "").upper()
        if method in ("PLAIN", "LOGIN"):
            client.user, client.password = username, str(smtp.get("password") or "")
            client.auth(method, getattr(client, "auth_" + method.lower()))
        else:
            client.login(username, str(smtp.get("password") or ""))


def _sendmail(mail: EmailMessage, to: list[str], message: MailMessage) -> bool:
    """SMTP disabled: PocketBase pipes the message to a local ``sendmail``; so does pbk.

    Without a ``sendmail`` on PATH the message is logged with a warning and dropped.
    """
    sendmail = shutil.which("sendmail")
    if sendmail is None:
        log.warning(
            "SMTP is disabled and no sendmail is installed: mail %r to %s dropped "
            "(enable settings.smtp to send mail)", message.subject, to,
        )
        return False
    done = subprocess.run([sendmail, "-t", "-i"], input=mail.as_bytes(), capture_output=True, timeout=60, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"sendmail exited with {done.returncode}: {done.stderr.decode(errors='replace')}")
    return True
