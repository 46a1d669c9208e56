"""The jobs of one worker (``app.state[CRON_JOBS]``): added, removed, listed, started.

As in PocketBase, adding an id that exists replaces that job (and moves it to the end), and
the list puts every job whose id starts with ``__pb`` (a system job) after the others: those
sorted by id, the system ones in the order they were added; a macro shows as its five fields. A started job runs as a task of its
own, so a slow job holds nothing else up, and what it raises is logged in one line.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from dataclasses import dataclass
from datetime import datetime

from pbk_sdk.cron import MACROS, Schedule, parse
from pbk_sdk.interfaces import CronJob

log = logging.getLogger(__name__)

#: Ids of PocketBase's system jobs start with this.
SYSTEM_PREFIX = "__pb"


@dataclass(frozen=True)
class Job:
    id: str
    schedule: Schedule
    run: CronJob


class Jobs:
    """``pbk_sdk.interfaces.CronJobs`` for one worker."""

    def __init__(self) -> None:
        self._jobs: dict[str, Job] = {}
        self._running: set[asyncio.Task[None]] = set()

    def add(self, job_id: str, expression: str, run: CronJob) -> None:
        if not callable(run):
            raise TypeError(f"cron job {job_id!r}: run must be an async function, not {run!r}")
        job = Job(job_id, parse(expression), run)
        self._jobs.pop(job_id, None)
        self._jobs[job_id] = job

    def remove(self, job_id: str) -> None:
        self._jobs.pop(job_id, None)

    def jobs(self) -> list[tuple[str, str]]:
        own = sorted(j for j in self._jobs if not j.startswith(SYSTEM_PREFIX))
        system = [j for j in self._jobs if j.startswith(SYSTEM_PREFIX)]
        # A macro is listed as the fields it stands for, as PocketBase lists it.
        expressions = {job_id: MACROS.get(job.schedule.expression, job.schedule.expression)
                       for job_id, job in self._jobs.items()}
        return [(job_id, expressions[job_id]) for job_id in own + system]

    def run(self, job_id: str) -> bool:
        job = self._jobs.get(job_id)
        if job is None:
            return False
        self._start(job)
        return True

    def run_due(self, moment: datetime) -> None:
        """Start every job due at ``moment``'s minute."""
        for job in list(self._jobs.values()):
            if job.schedule.is_due(moment):
                self._start(job)

    def _start(self, job: Job) -> None:
        task = asyncio.create_task(_run(job), name=f"pbk-cron-{job.id}")
        self._running.add(task)
        task.add_done_callback(self._running.discard)

    async def close(self) -> None:
        """Cancel the jobs still running (the app stops)."""
        for task in self._running:
            task.cancel()
        await asyncio.gather(*self._running, return_exceptions=True)


async def _run(job: Job) -> None:
    try:
        outcome = job.run()
        if not inspect.isawaitable(outcome):
            raise TypeError("the job is not an async function")
        await outcome
    except Exception as exc:  # noqa: BLE001 - a failing job must not stop the scheduler
        log.error("cron job %s failed: %s: %s", job.id, type(exc).__name__, exc)
