"""Mail: PocketBase's ``smtp`` and ``meta`` settings, the ``smtp`` mailer service and its queue.

``app.services.get("mailer", "smtp").send(message)`` fires ``mail_send`` (handlers may change
the message or cancel it), then puts the message on a background queue and returns at once.
Workers deliver it with ``smtplib`` in a thread, retry transient failures, log permanent ones
and fire ``mail_after_send`` after each delivery.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import smtplib
import ssl
import subprocess
from collections.abc import Mapping
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid
from typing import Any

from pbk_sdk import PluginInfo, hookimpl
from pbk_sdk.events import MAIL_AFTER_SEND, MAIL_SEND, MailEvent
from pbk_sdk.interfaces import MailMessage

from . import templates

PLUGIN = PluginInfo(name="mailer", description="SMTP mail, PocketBase's mail settings and templates.")

log = logging.getLogger("pbk.mailer")

SMTP_DEFAULTS: dict[str, Any] = {
    "enabled": False,
    "port": 587,
    "host": "smtp.example.com",
    "username": "",
    "authMethod": "",
    "tls": False,
    "localName": "",
}
META_DEFAULTS: dict[str, Any] = {
    "accentColor": "#1055c9",
    "appName": "Acme",
    "appURL": "http://localhost:8090",
    "senderName": "Support",
    "senderAddress": "support@example.com",
    "hideControls": False,
}

#: Delays before the 2nd, 3rd ... attempt of a transient failure.
RETRY_DELAYS: tuple[float, ...] = (0.5, 2.0, 5.0)
SMTP_TIMEOUT = 15.0
WORKERS = 2


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


class SmtpMailer:
    """The ``smtp`` mailer service."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.queue: asyncio.Queue[tuple[MailMessage, dict[str, Any]]] | None = None
        self.workers: list[asyncio.Task[None]] = []
        self.loop: asyncio.AbstractEventLoop | None = None
        self.failed: list[tuple[MailMessage, str]] = []  # permanently failed, newest last (kept 100)

    # ------------------------------------------------------------------ composing

    def default_sender(self) -> tuple[str, str]:
        settings = self.app.settings
        return (str(settings.get("meta.senderName", "") or ""), str(settings.get("meta.senderAddress", "") or ""))

    def compose(
        self,
        template: Mapping[str, Any],
        *,
        to: list[tuple[str, str]],
        params: Mapping[str, Any] | None = None,
        record: Mapping[str, Any] | None = None,
    ) -> MailMessage:
        """A message from a PocketBase template ``{subject, body}``.

        ``{APP_NAME}`` and ``{APP_URL}`` come from the ``meta`` settings; ``params`` adds
        ``TOKEN``, ``OTP``, ``OTP_ID``, ``ALERT_INFO``; ``{RECORD:field}`` reads ``record``.
        """
        settings = self.app.settings
        values = {
            "APP_NAME": settings.get("meta.appName", "") or "",
            "APP_URL": str(settings.get("meta.appURL", "") or "").rstrip("/"),
            **(params or {}),
        }
        subject = templates.render(str(template.get("subject", "")), values, record, escape=False)
        body = templates.render(str(template.get("body", "")), values, record)
        html_body = templates.wrap(body)
        return MailMessage(
            to=list(to), subject=subject, html=html_body, text=templates.html_to_text(body), sender=self.default_sender()
        )

    # ------------------------------------------------------------------ sending

    async def send(self, message: MailMessage, *, meta: Mapping[str, Any] | None = None) -> None:
        """Fire ``mail_send``; unless a handler cancels, queue the message. Never waits on SMTP."""
        if not message.sender[1]:
            message.sender = self.default_sender()
        event = MailEvent(app=self.app, message=message, meta=dict(meta or {}))
        await self.app.events.trigger(MAIL_SEND, event, self._enqueue)
        if event.cancelled:
            log.info("mail %r to %s cancelled by a mail_send handler", message.subject, recipients(message))

    async def _enqueue(self, event: MailEvent) -> None:
        if event.cancelled:
            return
        self._ensure_workers()
        assert self.queue is not None
        self.queue.put_nowait((event.message, event.meta))

    def _ensure_workers(self) -> None:
        loop = asyncio.get_running_loop()
        if self.queue is None or self.loop is not loop or not any(not w.done() for w in self.workers):
            self.loop = loop
            self.queue = asyncio.Queue()
            self.workers = [loop.create_task(self._work(), name=f"pbk-mailer-{n}") for n in range(WORKERS)]

    async def drain(self, timeout: float | None = None) -> bool:
        """Wait until every queued message was delivered or given up; False on timeout."""
        if self.queue is None:
            return True
        try:
            await asyncio.wait_for(self.queue.join(), timeout)
        except TimeoutError:
            return False
        return True

    async def close(self, timeout: float = 10.0) -> None:
        """Deliver what is queued (up to ``timeout`` s), then stop the workers."""
        if self.queue is None or self.loop is not asyncio.get_running_loop():
            return
        if not await self.drain(timeout):
            log.error("mailer stopped with %d undelivered message(s)", self.queue.qsize())
        for worker in self.workers:
            worker.cancel()
        await asyncio.gather(*self.workers, return_exceptions=True)
        self.workers = []
        self.queue = None

    async def _work(self) -> None:
        assert self.queue is not None
        queue = self.queue
        while True:
            message, meta = await queue.get()
            try:
                await self._deliver_with_retries(message, meta)
            except Exception:
                log.exception("mail %r to %s failed", message.subject, recipients(message))
            finally:
                queue.task_done()

    async def _deliver_with_retries(self, message: MailMessage, meta: dict[str, Any]) -> None:
        attempt = 0
        while True:
            try:
                delivered = await asyncio.to_thread(self.deliver, message)
            except TransientError as error:
                if attempt < len(RETRY_DELAYS):
                    log.warning("mail %r to %s: %s; retrying", message.subject, recipients(message), error)
                    await asyncio.sleep(RETRY_DELAYS[attempt])
                    attempt += 1
                    continue
                self._give_up(message, f"{error} (after {attempt + 1} attempts)")
                return
            except Exception as error:  # noqa: BLE001 - permanent: logged, kept in self.failed
                self._give_up(message, str(error) or type(error).__name__)
                return
            if delivered:
                await self.app.events.trigger(MAIL_AFTER_SEND, MailEvent(app=self.app, message=message, meta=meta))
            return

    def _give_up(self, message: MailMessage, reason: str) -> None:
        log.error("mail %r to %s was not delivered: %s", message.subject, recipients(message), reason)
        self.failed = [*self.failed[-99:], (message, reason)]

    def deliver(self, message: MailMessage) -> bool:
        """Send one message now (blocking; runs on a worker thread). True when handed over."""
        settings = self.app.settings
        smtp = {**SMTP_DEFAULTS, **(settings.get("smtp") or {})}
        mail = build_email(message, str(smtp.get("localName") or ""))
        to = recipients(message)
        if not smtp.get("enabled"):
            return self._sendmail(mail, to, message)
        host, port = str(smtp.get("host") or ""), int(smtp.get("port") or 0)
        local_name = str(smtp.get("localName") or "") or None
        try:
            if smtp.get("tls"):
                client: smtplib.SMTP = smtplib.SMTP_SSL(
                    host, port, local_hostname=local_name, timeout=SMTP_TIMEOUT, context=ssl.create_default_context()
                )
            else:
                client = smtplib.SMTP(host, port, local_hostname=local_name, timeout=SMTP_TIMEOUT)
            with client:
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

    def _sendmail(self, mail: EmailMessage, to: list[str], message: MailMessage) -> bool:
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


# --------------------------------------------------------------------------- hooks


@hookimpl
def pbk_declare_settings(app: Any) -> dict[str, Any]:
    return {"smtp": dict(SMTP_DEFAULTS), "meta": dict(META_DEFAULTS)}


@hookimpl
def pbk_register_mailers(app: Any) -> dict[str, Any]:
    return {"smtp": SmtpMailer}


@hookimpl
async def pbk_shutdown(app: Any) -> None:
    mailer = app.services.providers("mailer").get("smtp")
    if mailer is not None:
        instance = app.services.get("mailer", "smtp")
        await instance.close()
