"""The backups plugin: PocketBase's ``/api/backups``, automatic backups, restore by restart.

It declares the ``backups`` settings section, keeps this app's ``Backups`` and offers whether
one runs as ``app.state[BACKUP_STATUS]`` (health's ``canBackup``). ``__pbAutoBackup__`` follows
``backups.cron`` at start and at every ``settings_reload``; the crons plugin runs it once for
all workers. ``pbk_prepare_data_dir`` marks the data dir served (``pbk backups restore``
refuses to run under a server) and swaps a staged restore in, or back out when the first
worker could not start on it; the ``serve`` event, once one could, drops the old data
(``swap``).
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

from pbk_sdk import PluginInfo, Route, hookimpl
from pbk_sdk.cron import CronError
from pbk_sdk.events import SERVE, SETTINGS_RELOAD, ServeEvent, SettingsEvent
from pbk_sdk.interfaces import BACKUP_STATUS, CRON_JOBS, App

from .cli import backups_command
from .lock import hold_serving
from .resources import BackupItem, BackupList, BackupRestore, BackupUpload
from .service import AUTO_JOB, BACKUPS, ON_POSTGRESQL, Unavailable
from .swap import commit, prepare

log = logging.getLogger(__name__)

PLUGIN = PluginInfo(
    name="backups",
    requires=("auth", "files", "crons"),
    description="PocketBase's backups: create, upload, download, restore, automatic backups, S3.",
)

#: PocketBase's ``backups`` settings section (``backups.s3.secret`` is write-only).
DEFAULTS = {
    "cron": "",
    "cronMaxKeep": 3,
    "s3": {"enabled": False, "bucket": "", "region": "", "endpoint": "", "accessKey": "", "secret": "",
           "forcePathStyle": False},
}


@hookimpl
def pbk_declare_settings(app: App) -> dict[str, Any]:
    return {"backups": DEFAULTS}


@hookimpl
def pbk_register_routes(app: App) -> list[Route]:
    backups = app.state[BACKUPS]
    item = BackupItem(app, backups)
    return [
        Route("/api/backups", BackupList(app, backups)),
        Route("/api/backups/upload", BackupUpload(app, backups, item)),
        Route("/api/backups/{key}", item),
        Route("/api/backups/{key}/restore", BackupRestore(app, backups)),
    ]


@hookimpl
def pbk_register_commands(cli: Any) -> None:
    cli.add_command(backups_command)


@hookimpl
def pbk_prepare_data_dir(data_dir: Path, after_failed_start: bool) -> bool:
    hold_serving(data_dir)
    return prepare(data_dir, after_failed_start)


@hookimpl
def pbk_startup(app: App) -> None:
    backups = app.state[BACKUPS]
    app.state[BACKUP_STATUS] = backups.lock if backups.refusal() is None else Unavailable()
    schedule_auto_backups(app)

    async def on_reload(e: SettingsEvent) -> None:
        await e.next()
        if "backups" in e.changed:  # in every worker (the crons plugin syncs before a tick)
            schedule_auto_backups(app)

    app.events.on(SETTINGS_RELOAD, on_reload)

    async def on_serve(e: ServeEvent) -> None:
        await e.next()
        await asyncio.to_thread(commit, backups.data_dir)  # a restored backup started: it stays

    app.events.on(SERVE, on_serve)


def schedule_auto_backups(app: App) -> None:
    """Add, replace or remove ``__pbAutoBackup__`` as ``backups.cron`` says (PocketBase's
    ``loadJob``)."""
    jobs = app.state[CRON_JOBS]
    expression = app.settings.get("backups.cron") or ""
    if not expression or app.state[BACKUPS].refusal() is not None:
        if expression:
            log.warning("backups.cron is set, but no automatic backup runs: %s", ON_POSTGRESQL)
        jobs.remove(AUTO_JOB)
        return
    try:
        jobs.add(AUTO_JOB, expression, app.state[BACKUPS].auto_backup)
    except CronError as exc:
        log.error("backups.cron %r is not a valid cron expression: %s", expression, exc)
        jobs.remove(AUTO_JOB)
