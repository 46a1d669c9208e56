"""With the data in PostgreSQL (the real one at 127.0.0.1:5432, a fresh database per test): the
backups plugin loads, refuses to make, upload or restore a backup with the reason, health says
``canBackup: false`` and no automatic backup is scheduled."""

from __future__ import annotations

from typing import Any

import pytest
from backups_testing import PLUGINS
from pbk_backups.service import AUTO_JOB, BACKUPS, ON_POSTGRESQL
from pbk_sdk.interfaces import CRON_JOBS

REFUSED = {"status": 400, "message": ON_POSTGRESQL, "data": {}}


@pytest.fixture
def pbk_config(pbk_config: dict[str, Any], postgres_url: str) -> dict[str, Any]:
    return {**pbk_config, "db": postgres_url, "plugins": tuple(PLUGINS)}


async def test_backups_are_refused_with_the_reason_and_health_says_so(
    pbk_app: Any, pbk_client: Any, pbk_superuser: Any
) -> None:
    headers = pbk_superuser.headers
    assert pbk_app.db.engine == "postgresql"
    create = await pbk_client.post("/api/backups", json={"name": "a.zip"}, headers=headers)
    upload = await pbk_client.post("/api/backups/upload", body=b"PK\x03\x04", headers=headers)
    restore = await pbk_client.post("/api/backups/a.zip/restore", headers=headers)
    assert [r.json for r in (create, upload, restore)] == [REFUSED] * 3
    assert (await pbk_client.post("/api/backups", json={})).status_code == 401  # guests as ever
    health = await pbk_client.get("/api/health", headers=headers)
    assert health.json["data"]["canBackup"] is False
    listed = await pbk_client.get("/api/backups", headers=headers)
    assert (listed.status_code, listed.json) == (200, [])
    assert not await pbk_app.state[BACKUPS].exists("a.zip", on_error=True)


async def test_no_automatic_backup_is_scheduled(pbk_app: Any, pbk_client: Any, pbk_superuser: Any,
                                                caplog: pytest.LogCaptureFixture) -> None:
    changed = await pbk_client.patch("/api/settings", json={"backups": {"cron": "0 0 * * *"}},
                                     headers=pbk_superuser.headers)
    assert changed.status_code == 200, changed.text
    assert changed.json["backups"]["cron"] == "0 0 * * *"
    assert AUTO_JOB not in dict(pbk_app.state[CRON_JOBS].jobs())
    assert "no automatic backup runs" in caplog.text


def test_the_cli_says_why(pbk_cli: Any) -> None:
    made = pbk_cli("backups", "create", "cli.zip")
    assert made.exit_code == 1 and "pg_dump" in made.output
