"""The crons plugin: scheduled jobs, run once for all workers, and ``/api/crons``.

At start-up (first among the plugins, so that theirs can add jobs) it makes this worker's
``CronJobs`` (``app.state[CRON_JOBS]``), adds PocketBase's system jobs, then every plugin's
``pbk_register_cron_jobs``. The ticker starts when the server serves (PocketBase starts its
cron on serve too), so ``pbk shell`` and one-off commands run no jobs, and stops at shutdown.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pbk_sdk import PluginInfo, Route, hookimpl
from pbk_sdk.cron import CronError
from pbk_sdk.errors import PluginError
from pbk_sdk.events import SERVE, ServeEvent
from pbk_sdk.interfaces import CRON_JOBS, App
from pbk_sdk.state import StateKey

from .jobs import Jobs
from .resources import CronList, CronRun
from .scheduler import Scheduler, tick_seconds
from .system_jobs import system_jobs

PLUGIN = PluginInfo(
    name="crons",
    requires=("auth",),
    description="Scheduled jobs (PocketBase's system jobs and plugins'), GET/POST /api/crons.",
)

SCHEDULER: StateKey[Scheduler] = StateKey("crons.scheduler")


@hookimpl
def pbk_register_routes(app: App) -> list[Route]:
    return [Route("/api/crons", CronList(app)), Route("/api/crons/{job_id}", CronRun(app))]


@hookimpl(tryfirst=True)
def pbk_startup(app: App) -> None:
    jobs = Jobs()
    for job_id, (expression, run) in system_jobs(app).items():
        jobs.add(job_id, expression, run)
    owners: dict[str, str] = {}
    for plugin, registered in app.call_hook("pbk_register_cron_jobs", app=app):
        for job_id, entry in _entries(plugin, registered):
            if job_id in owners:
                raise PluginError(
                    f"plugin {plugin!r} registers the cron job {job_id!r}, as plugin {owners[job_id]!r} does"
                )
            owners[job_id] = plugin
            expression, run = entry
            try:
                jobs.add(job_id, expression, run)
            except (CronError, TypeError) as exc:
                raise PluginError(f"plugin {plugin!r}: cron job {job_id!r}: {exc}") from None
    app.state[CRON_JOBS] = jobs
    scheduler = app.state[SCHEDULER] = Scheduler(app, jobs, tick_seconds())

    async def start_ticking(e: ServeEvent) -> None:
        scheduler.start()
        await e.next()

    app.events.on(SERVE, start_ticking)


def _entries(plugin: str, registered: Any) -> list[tuple[str, tuple[Any, Any]]]:
    """``registered``'s ``(id, (expression, run))`` pairs, or a PluginError saying what is wrong."""
    if not isinstance(registered, Mapping):
        raise PluginError(f"plugin {plugin!r}: pbk_register_cron_jobs must return a mapping of id to (expression, job)")
    entries = []
    for job_id, entry in registered.items():
        if not isinstance(job_id, str) or not job_id or not isinstance(entry, tuple) or len(entry) != 2 \
                or not isinstance(entry[0], str):
            raise PluginError(f"plugin {plugin!r}: cron job {job_id!r} must be registered as id: (expression, job)")
        entries.append((job_id, entry))
    return entries


@hookimpl
async def pbk_shutdown(app: App) -> None:
    scheduler = app.state.get(SCHEDULER)
    if scheduler is not None:
        await scheduler.stop()
    jobs = app.state.get(CRON_JOBS)
    if isinstance(jobs, Jobs):
        await jobs.close()
