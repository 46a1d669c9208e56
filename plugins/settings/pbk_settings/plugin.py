"""The settings plugin: ``GET`` and ``PATCH /api/settings`` (superusers only).

``GET`` answers ``app.settings.as_dict()`` (every plugin's declared section, stored values
winning) over PocketBase's defaults, without the write-only secrets. ``PATCH`` loads the body
into that document as PocketBase does (``shape.conform``), fires ``settings_update_request``
so the plugin owning each section can check it, and saves what changed.
"""

from __future__ import annotations

from pbk_sdk import PluginInfo, Route, hookimpl, routes
from pbk_sdk.interfaces import App

from .resources import SettingsResource

PLUGIN = PluginInfo(
    name="settings",
    requires=("auth",),
    description="GET and PATCH /api/settings, validated by the plugin that owns each section.",
)


@hookimpl
def pbk_register_routes(app: App) -> list[Route]:
    return [Route(routes.SETTINGS, SettingsResource(app))]
