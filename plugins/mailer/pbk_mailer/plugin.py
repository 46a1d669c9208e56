"""The mailer plugin's hooks: PocketBase's ``smtp`` and ``meta`` settings sections and the
``smtp`` mailer service.

``mailer.py`` is the service (queue, retries, events), ``smtp.py`` the delivery of one
message, ``templates.py`` PocketBase's mail templates.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pbk_sdk import PluginInfo, hookimpl
from pbk_sdk.interfaces import MAILER, App, Mailer

from .mailer import META_DEFAULTS, SmtpMailer
from .smtp import SMTP_DEFAULTS

PLUGIN = PluginInfo(name="mailer", description="SMTP mail, PocketBase's mail settings and templates.")


@hookimpl
def pbk_declare_settings(app: App) -> dict[str, Any]:
    return {"smtp": dict(SMTP_DEFAULTS), "meta": dict(META_DEFAULTS)}


@hookimpl
def pbk_register_mailers(app: App) -> dict[str, Callable[[App], Mailer]]:
    return {"smtp": SmtpMailer}


@hookimpl
async def pbk_shutdown(app: App) -> None:
    """Deliver what is queued (for a while), then stop the mailer's workers."""
    mailer = app.services.get(MAILER, "smtp") if "smtp" in app.services.providers(MAILER) else None
    if isinstance(mailer, SmtpMailer):
        await mailer.close()
