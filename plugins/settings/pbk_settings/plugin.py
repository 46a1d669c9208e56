"""The settings plugin: ``GET`` and ``PATCH /api/settings``, ``POST /api/settings/test/email``
and ``POST /api/settings/apple/generate-client-secret`` (superusers only).

``GET`` answers ``app.settings.as_dict()`` (every plugin's declared section, stored values
winning) over PocketBase's defaults, without the write-only secrets. ``PATCH`` loads the body
into that document as PocketBase does (``shape.conform``), fires ``settings_update_request``
so the plugin owning each section can check it, then checks the whole document with
PocketBase's rules (``validation.py``) and saves what changed.
"""

from __future__ import annotations

from pbk_sdk import PluginInfo, Route, hookimpl, routes
from pbk_sdk.interfaces import App

from .apple import AppleClientSecretResource
from .resources import SettingsResource
from .send_test_email import EmailTestResource

PLUGIN = PluginInfo(
    name="settings",
    requires=("auth",),
    description="GET and PATCH /api/settings with PocketBase's checks, the test email, Apple's client secret.",
)


@hookimpl
def pbk_register_routes(app: App) -> list[Route]:
    return [
        Route(routes.SETTINGS, SettingsResource(app)),
        Route(f"{routes.SETTINGS}/test/email", EmailTestResource(app)),
        Route(f"{routes.SETTINGS}/apple/generate-client-secret", AppleClientSecretResource(app)),
    ]
