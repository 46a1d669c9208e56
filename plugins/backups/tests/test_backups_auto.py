"""Automatic backups on a live ``pbk serve --workers 2``: ``backups.cron`` schedules
``__pbAutoBackup__`` (and clearing it removes the job), each run makes one
``@auto_pb_backup_<app>_<time>.zip`` and only ``backups.cronMaxKeep`` of them are kept.

``PBK_CRON_TICK=1`` makes a cron "minute" one second, so ``* * * * *`` runs every second; the
backup names carry the second, so each run makes a new one.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from backups_testing import PLUGINS, sign_in, wait_for
from pbk_sdk.testing.postgres import engine_under_test
from pbk_sdk.testing.programs import pbk_command_superuser

pytestmark = pytest.mark.skipif(engine_under_test() == "postgresql", reason="no backups with the data in PostgreSQL (test_backups_postgres)")

EMAIL, PASSWORD = "root@example.com", "su-password-123"
AUTO_DONE = re.compile(r"backup: (@auto_pb_backup_my_app_\d{14}\.zip) done")


def auto_keys(client: httpx.Client) -> list[str]:
    return [item["key"] for item in client.get("/api/backups").json() if item["key"].startswith("@auto_")]


def job_ids(client: httpx.Client) -> list[str]:
    return [job["id"] for job in client.get("/api/crons").json()]


@pytest.mark.slow
def test_auto_backups_keep_the_newest_cron_max_keep(tmp_path: Path, live_server_factory: Any) -> None:
    data_dir = tmp_path / "pb_data"
    pbk_command_superuser(data_dir, PLUGINS, EMAIL, PASSWORD)
    server = live_server_factory(["--workers", "2", "--plugins", ",".join(PLUGINS)], data_dir=data_dir,
                                 env={"PBK_CRON_TICK": "1"})
    client = sign_in(server.url, EMAIL, PASSWORD)
    assert client.post("/api/backups", json={"name": "manual.zip"}).status_code == 204
    patch = {"meta": {"appName": "My App"}, "backups": {"cron": "* * * * *", "cronMaxKeep": 2}}
    assert client.patch("/api/settings", json=patch).status_code == 200
    # No request until the backups are made: the leader may be the worker that did not take the
    # change, and must still learn of it.
    made = wait_for(lambda: (found := AUTO_DONE.findall(server.output())) and len(found) >= 4 and found,
                    60, "four automatic backups")
    kept = wait_for(lambda: (keys := auto_keys(client)) and len(keys) == 2 and keys, 30, "pruning to two")
    assert made[0] not in kept and set(kept) <= set(AUTO_DONE.findall(server.output()))
    assert [item["key"] for item in client.get("/api/backups").json()].count("manual.zip") == 1
    assert "__pbAutoBackup__" in job_ids(client)

    assert client.patch("/api/settings", json={"backups": {"cron": ""}}).status_code == 200
    wait_for(lambda: "__pbAutoBackup__" not in job_ids(client), 10, "the job removed")
