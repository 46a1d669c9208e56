"""System alerts: a mail to every superuser when an automatic backup fails, as PocketBase
sends them (subject ``[<app name> system alert] <subject>``), so a failing backup schedule is
noticed before the backups are needed.

Sent through the SDK's ``mailer`` service when a plugin provides one (the mailer plugin's
``smtp``); without one the failure is only logged.
"""

from __future__ import annotations

import html
import logging

from pbk_sdk.interfaces import MAILER, RECORD_STORE, App, MailMessage

log = logging.getLogger(__name__)

ALERT_HTML = """<!DOCTYPE html>
<html>
<body style="font-family: sans-serif; font-size: 14px; line-height: 20px; color: #16161a; padding: 20px 30px;">
<p>{app_name} raised a system alert:</p>
<p style="padding: 15px; background: #e4e8ec; border-radius: 5px; white-space: pre-wrap;"><strong>{details}</strong></p>
<p>The application's logs tell more.</p>
</body>
</html>"""


async def alert_superusers(app: App, subject: str, details: str) -> None:
    """Mail ``subject`` and ``details`` to every superuser; failures are logged, never raised."""
    providers = app.services.providers(MAILER)
    if not providers:
        return
    mailer = app.services.get(MAILER, "smtp" if "smtp" in providers else None)
    store = app.services.get(RECORD_STORE)
    superusers = store.collection("_superusers")
    if superusers is None:
        return
    app_name = str(app.settings.get("meta.appName") or "")
    sender = (str(app.settings.get("meta.senderName") or ""), str(app.settings.get("meta.senderAddress") or ""))
    body = ALERT_HTML.format(app_name=html.escape(app_name), details=html.escape(details))
    for superuser in await store.find_all(superusers, {}):
        message = MailMessage(
            to=[("", str(superuser["email"]))],
            subject=f"[{app_name} system alert] {html.escape(subject)}",
            html=body,
            sender=sender,
        )
        try:
            await mailer.send(message, meta={"template": "system-alert"}, wait=True)
        except Exception as exc:  # noqa: BLE001 - an alert that cannot go out is logged, as PocketBase does
            log.warning("[Backup cron] Failed to send backup error alerts: %s", exc)
