"""``GET /api/crons`` and ``POST /api/crons/{id}`` (superusers only), as PocketBase answers."""

from __future__ import annotations

from typing import Any

from pbk_sdk.auth import require_superuser
from pbk_sdk.errors import NotFoundError
from pbk_sdk.interfaces import CRON_JOBS, App

UNKNOWN_JOB = "Missing or invalid cron job."


class CronList:
    """``GET /api/crons``: every job of this worker, ``[{"id", "expression"}]``."""

    def __init__(self, app: App) -> None:
        self.app = app

    async def on_get(self, req: Any, resp: Any) -> None:
        require_superuser(req)
        jobs = self.app.state[CRON_JOBS].jobs()
        resp.media = [{"id": job_id, "expression": expression} for job_id, expression in jobs]


class CronRun:
    """``POST /api/crons/{job_id}``: start the job now, here, and answer 204 at once."""

    def __init__(self, app: App) -> None:
        self.app = app

    async def on_post(self, req: Any, resp: Any, job_id: str) -> None:
        require_superuser(req)
        if not self.app.state[CRON_JOBS].run(job_id):
            raise NotFoundError(UNKNOWN_JOB)
        resp.status = 204
