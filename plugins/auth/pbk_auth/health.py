"""What ``GET /api/health`` tells a superuser beyond "healthy", as PocketBase does: whether a
backup may start, the client's IP and a header hinting that a proxy stands in front."""

from __future__ import annotations

from typing import Any

from pbk_sdk import App
from pbk_sdk.auth import request_auth
from pbk_sdk.client_ip import real_ip
from pbk_sdk.events import HEALTH_REQUEST, RequestEvent
from pbk_sdk.interfaces import BACKUP_STATUS

#: Checked after the settings' ``trustedProxy.headers``, in PocketBase's order.
PROXY_HEADERS = ("CF-Connecting-IP", "Fly-Client-IP", "X-Forwarded-For")


def listen(app: App) -> None:
    async def on_health(event: RequestEvent) -> None:
        await event.next()
        auth = request_auth(event.request)
        if auth is not None and auth.is_superuser and isinstance(event.response.media, dict):
            event.response.media["data"] = superuser_details(app, event.request)

    app.events.on(HEALTH_REQUEST, on_health)


def superuser_details(app: App, req: Any) -> dict[str, Any]:
    """``canBackup`` is false while a backup or restore runs (the backups plugin's
    ``BACKUP_STATUS``; without that plugin none ever runs)."""
    status = app.state.get(BACKUP_STATUS)
    trusted = app.settings.get("trustedProxy.headers") or []
    headers = [*(h for h in trusted if isinstance(h, str)), *PROXY_HEADERS]
    hint = next((h for h in headers if req.get_header(h)), "")
    return {
        "canBackup": status is None or not status.busy(),
        "realIP": real_ip(app, req),
        "possibleProxyHeader": hint,
    }
