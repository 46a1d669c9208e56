"""``GET`` and ``PATCH /api/settings``: the superuser check, ``settings_list_request`` around
the listing; for a change, loading the body (JSON or a form) as PocketBase does, firing
``settings_update_request`` for the plugins that own the sections, then (as PocketBase's save
does) checking the whole new document with PocketBase's rules and saving."""

from __future__ import annotations

from typing import Any

from pbk_sdk.auth import require_superuser
from pbk_sdk.errors import ApiError
from pbk_sdk.events import (
    SETTINGS_LIST_REQUEST,
    SETTINGS_UPDATE_REQUEST,
    SettingsListEvent,
    SettingsUpdateEvent,
)
from pbk_sdk.interfaces import App
from pbk_sdk.mappings import deep_merge

from .forms import read_settings_patch
from .shape import diff, public, with_defaults
from .validation import settings_errors

SAVE_ERROR = "An error occurred while saving the new settings."


class SettingsResource:
    """``/api/settings`` (superusers only)."""

    def __init__(self, app: App) -> None:
        self.app = app

    async def on_get(self, req: Any, resp: Any) -> None:
        require_superuser(req)
        event = SettingsListEvent(request=req, response=resp, settings=with_defaults(self.app.settings.as_dict()))

        async def answer(e: SettingsListEvent) -> None:
            e.response.media = public(e.settings)

        await self.app.events.trigger(SETTINGS_LIST_REQUEST, event, answer)

    async def on_patch(self, req: Any, resp: Any) -> None:
        require_superuser(req)
        current = self.app.settings.as_dict()
        full = with_defaults(current)
        patch = await read_settings_patch(req, full)
        event = SettingsUpdateEvent(settings=deep_merge(full, patch), patch=patch)

        async def save(e: SettingsUpdateEvent) -> None:
            errors = deep_merge(e.errors, settings_errors(e.settings))
            if errors:
                raise ApiError(400, SAVE_ERROR, errors)
            await self.app.settings.update(diff(current, e.settings))

        await self.app.events.trigger(SETTINGS_UPDATE_REQUEST, event, save)
        resp.media = public(event.settings)
