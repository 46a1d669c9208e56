"""The ``smtp`` mailer service (``app.services.get(MAILER, "smtp")``): ``send`` fires
``mail_send`` (handlers may change the message or cancel it), then puts the message on a queue
and returns at once. Worker tasks deliver it (``smtp.deliver``, in a thread), retry transient
failures, log permanent ones and fire ``mail_after_send`` after each delivery.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

from pbk_sdk.errors import MailNotSent
from pbk_sdk.events import MAIL_AFTER_SEND, MAIL_SEND, MAILER_RECORD_EVENTS, MailEvent
from pbk_sdk.interfaces import App, MailMessage

from . import smtp, templates

log = logging.getLogger("pbk.mailer")

#: PocketBase's ``meta`` settings section: the app's name and URL, the default sender.
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
WORKERS = 2


class SmtpMailer:
    """The ``smtp`` mailer service."""

    def __init__(self, app: App) -> None:
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
        subject, html, text = templates.render_mail(template, values, record)
        return MailMessage(to=list(to), subject=subject, html=html, text=text, sender=self.default_sender())

    # ------------------------------------------------------------------ sending

    async def send(self, message: MailMessage, *, meta: Mapping[str, Any] | None = None, wait: bool = False) -> None:
        """Fire ``mail_send``; unless a handler cancels, queue the message. Never waits on SMTP,
        unless ``wait``: then one attempt now, ``MailNotSent`` when it fails."""
        if not message.sender[1]:
            message.sender = self.default_sender()
        event = MailEvent(app=self.app, message=message, meta=dict(meta or {}))
        record_event = MAILER_RECORD_EVENTS.get(event.meta.get("template", ""))
        if record_event is not None and self.app.events.has(record_event):
            # ``mailer_record_*_send`` first, its default action the ``mail_send`` below.
            await self.app.events.trigger(
                record_event, event, lambda e: self._send(MailEvent(app=e.app, message=e.message, meta=e.meta), wait))
            if event.cancelled:
                log.info("mail %r to %s cancelled by a %s handler", message.subject, smtp.recipients(message),
                         record_event)
        else:
            await self._send(event, wait)

    async def _send(self, event: MailEvent, wait: bool) -> None:
        await self.app.events.trigger(MAIL_SEND, event, self._deliver_now if wait else self._enqueue)
        if event.cancelled:
            log.info("mail %r to %s cancelled by a mail_send handler", event.message.subject,
                     smtp.recipients(event.message))

    async def _enqueue(self, event: MailEvent) -> None:
        if event.cancelled:
            return
        self._ensure_workers()
        assert self.queue is not None
        self.queue.put_nowait((event.message, event.meta))

    async def _deliver_now(self, event: MailEvent) -> None:
        if event.cancelled:
            return
        try:
            delivered = await asyncio.to_thread(self.deliver, event.message)
        except Exception as error:
            log.error("mail %r to %s was not delivered: %s", event.message.subject,
                      smtp.recipients(event.message), error)
            raise MailNotSent(str(error) or type(error).__name__) from error
        if not delivered:  # SMTP disabled and no sendmail: PocketBase fails such a send too
            raise MailNotSent("failed to locate a sendmail executable path")  # PocketBase's words
        await self.app.events.trigger(MAIL_AFTER_SEND, MailEvent(app=self.app, message=event.message, meta=event.meta))

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
                log.exception("mail %r to %s failed", message.subject, smtp.recipients(message))
            finally:
                queue.task_done()

    async def _deliver_with_retries(self, message: MailMessage, meta: dict[str, Any]) -> None:
        attempt = 0
        while True:
            try:
                delivered = await asyncio.to_thread(self.deliver, message)
            except smtp.TransientError as error:
                if attempt < len(RETRY_DELAYS):
                    log.warning("mail %r to %s: %s; retrying", message.subject, smtp.recipients(message), error)
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
        log.error("mail %r to %s was not delivered: %s", message.subject, smtp.recipients(message), reason)
        self.failed = [*self.failed[-99:], (message, reason)]

    def deliver(self, message: MailMessage) -> bool:
        """Send one message now with the current ``smtp`` settings (blocking; runs on a
        worker thread). True when handed over."""
        return smtp.deliver(self.app.settings.get("smtp") or {}, message)
