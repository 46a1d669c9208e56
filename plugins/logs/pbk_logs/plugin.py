"""The logs plugin: PocketBase's request and app logs in ``auxiliary.db`` ``_logs``.

Each request leaves a row (a falcon middleware captures it, a background task writes the rows
in batches), so do the records of pbk's and the plugins' ``logging`` loggers; superusers read
them through ``/api/logs``. Settings ``logs.maxDays`` (0: no logging), ``minLevel``,
``logIP`` and ``logAuthId`` apply from the next request on, in every worker.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from pbk_sdk import Migration, PluginInfo, Route, hookimpl
from pbk_sdk.events import SETTINGS_RELOAD, TERMINATE, SettingsEvent, TerminateEvent
from pbk_sdk.interfaces import App, CronJob
from pbk_sdk.state import StateKey

from .app_logs import AppLogHandler
from .options import DEFAULTS
from .requests import RequestLogger
from .resources import LOG_ROUTES, LogsResource
from .retention import CLEANUP_JOB, CLEANUP_SCHEDULE, clean_up, delete_unwanted, reclaim_space
from .schema import migrations, recreate_if_dropped
from .state import LOGS

PLUGIN = PluginInfo(
    name="logs",
    requires=("records", "auth"),
    description="Request and app logs in auxiliary.db _logs, and /api/logs for superusers.",
)


#: The ``logging`` handler a started app added to the root logger.
HANDLER: StateKey[AppLogHandler] = StateKey("logs.handler")


@hookimpl
def pbk_declare_settings(app: App) -> dict[str, Any]:
    return {"logs": dict(DEFAULTS)}


@hookimpl
def pbk_register_migrations(app: App) -> list[Migration]:
    return migrations(app.aux_db.engine)


@hookimpl
def pbk_register_routes(app: App) -> list[Route]:
    resource = LogsResource(app)
    listing, stats, one = LOG_ROUTES
    return [Route(listing, resource), Route(stats, resource, "stats"), Route(one, resource, "item")]


@hookimpl
def pbk_register_cron_jobs(app: App) -> Mapping[str, tuple[str, CronJob]]:
    async def delete_old_logs() -> None:
        await clean_up(app.aux_db, app.state[LOGS].options)

    return {CLEANUP_JOB: (CLEANUP_SCHEDULE, delete_old_logs)}


@hookimpl
def pbk_register_middleware(app: App) -> list[Any]:
    return [RequestLogger(app, app.state[LOGS])]


@hookimpl
async def pbk_startup(app: App) -> None:
    logs = app.state[LOGS]
    await recreate_if_dropped(app.aux_db)
    options = logs.reload_options()
    handler = AppLogHandler(logs)
    handler.sync_level()
    logging.getLogger().addHandler(handler)
    logs.buffer.start()
    await clean_up(app.aux_db, options)
    app.state[HANDLER] = handler

    async def settings_changed(e: SettingsEvent) -> None:
        await e.next()
        if "logs" in e.changed:
            new = logs.reload_options()
            handler.sync_level()
            if app.cluster.lead():  # every worker reloads; one deletes for all
                await app.aux_db.write(delete_unwanted, new.max_days, new.min_level)
                if not new.enabled:  # as PocketBase: no logs wanted, so give their space back
                    await reclaim_space(app.aux_db)

    async def flush_on_terminate(e: TerminateEvent) -> None:
        await logs.buffer.flush()
        await e.next()

    app.events.on(SETTINGS_RELOAD, settings_changed)
    app.events.on(TERMINATE, flush_on_terminate)


@hookimpl
async def pbk_shutdown(app: App) -> None:
    handler = app.state.pop(HANDLER)
    if handler is None:
        return
    logging.getLogger().removeHandler(handler)
    await app.state[LOGS].buffer.close()
