"""What ``GET /api/health`` tells a superuser beyond "healthy", as PocketBase does: whether a
backup may start, the client's IP and a header hinting that a proxy stands in front."""

from __future__ import annotations

from typing import Any

from pbk_sdk import App
from pbk_sdk.auth import request_auth
from pbk_sdk.client_ip import real_ip
from pbk_sdk.events import HEALTH_REQUEST, RequestEvent

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
    """``canBackup`` is always true: pbk has no backups, so none is ever running."""
    trusted = app.settings.get("trustedProxy.headers") or []
    headers = [*(h for h in trusted if isinstance(h, str)), *PROXY_HEADERS]
    hint = next((h for h in headers if req.get_header(h)), "")
    return {
        "canBackup": True,
        "realIP": real_ip(app, req),
        "possibleProxyHeader": hint,
    }
