"""``/api/logs``: superusers only, filter/sort/paging, item, hourly stats, delete-all."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from pbk_logs.retention import CLEANUP_JOB
from pbk_logs.rows import AppEntry, inserter
from pbk_sdk.interfaces import CRON_JOBS
from pbk_sdk.testing.postgres import engine_under_test

UNAUTHORIZED = {"data": {}, "message": "The request requires valid record authorization token.", "status": 401}
FORBIDDEN = {"data": {}, "message": "The authorized record is not allowed to perform this action.", "status": 403}
NOT_FOUND = {"data": {}, "message": "The requested resource wasn't found.", "status": 404}
BAD_REQUEST = {"data": {}, "message": "Something went wrong while processing your request.", "status": 400}


async def seed(pbk_app, entries):
    """Store ``(level, message, data, age in seconds)`` entries directly."""
    now = time.time()
    rows = [AppEntry(now - age, level, message, data) for level, message, data, age in entries]
    await pbk_app.aux_db.write(inserter(pbk_app.aux_db.engine), rows, 0)


@pytest.fixture
async def seeded(pbk_app):
    await seed(pbk_app, [
        (0, "GET /a", {"type": "request", "status": 200, "execTime": 3.5}, 7200),
        (8, "GET /b", {"type": "request", "status": 404, "execTime": 1.0}, 3600),
        (4, "disk low", {"free": 12}, 10),
        (8, "POST /c", {"type": "request", "status": 400, "execTime": 9.25}, 5),
    ])


@pytest.mark.parametrize("path", ["/api/logs", "/api/logs/stats", "/api/logs/abc"])
async def test_only_superusers(pbk_client, user_headers, path):
    assert (await pbk_client.get(path)).json == UNAUTHORIZED
    assert (await pbk_client.get(path, headers=user_headers)).json == FORBIDDEN
    assert (await pbk_client.delete("/api/logs", headers=user_headers)).json == FORBIDDEN


async def test_list_filters_sorts_and_pages(pbk_client, pbk_superuser, seeded):
    headers = pbk_superuser.headers
    listed = (await pbk_client.get("/api/logs?filter=data.status>=400&sort=-data.execTime", headers=headers)).json
    assert [item["message"] for item in listed["items"]] == ["POST /c", "GET /b"]
    assert (listed["page"], listed["perPage"], listed["totalItems"], listed["totalPages"]) == (1, 30, 2, 1)
    item = listed["items"][0]
    assert list(item) == ["id", "created", "data", "message", "level"]
    assert item["data"] == {"type": "request", "status": 400, "execTime": 9.25} and item["level"] == 8
    paged = (await pbk_client.get("/api/logs?sort=created&perPage=3&page=2", headers=headers)).json
    assert [i["message"] for i in paged["items"]] == ["POST /c"] and paged["totalPages"] == 2
    quiet = (await pbk_client.get('/api/logs?filter=level<8 %26%26 message~"disk"&skipTotal=1', headers=headers)).json
    assert [i["message"] for i in quiet["items"]] == ["disk low"] and quiet["totalItems"] == -1
    picked = (await pbk_client.get("/api/logs?sort=created&perPage=1&fields=id,data.status", headers=headers)).json
    assert [sorted(i) for i in picked["items"]] == [["data", "id"]] and picked["items"][0]["data"] == {"status": 200}
    assert (await pbk_client.get("/api/logs?filter=nope=1", headers=headers)).json == BAD_REQUEST
    assert (await pbk_client.get("/api/logs?sort=bad((", headers=headers)).json == BAD_REQUEST


async def test_item_and_missing_item(pbk_client, pbk_superuser, seeded):
    headers = pbk_superuser.headers
    first = (await pbk_client.get("/api/logs?sort=created&perPage=1", headers=headers)).json["items"][0]
    assert (await pbk_client.get(f"/api/logs/{first['id']}", headers=headers)).json == first
    missing = await pbk_client.get("/api/logs/nope", headers=headers)
    assert (missing.status_code, missing.json) == (404, NOT_FOUND)


async def test_hourly_stats(pbk_client, pbk_superuser, seeded):
    headers = pbk_superuser.headers
    stats = (await pbk_client.get("/api/logs/stats", headers=headers)).json
    assert sum(bucket["total"] for bucket in stats) == 4
    assert all(bucket["date"].endswith(":00:00.000Z") for bucket in stats)
    assert [b["date"] for b in stats] == sorted(b["date"] for b in stats)
    errors = (await pbk_client.get("/api/logs/stats?filter=level=8", headers=headers)).json
    assert sum(bucket["total"] for bucket in errors) == 2
    bad = await pbk_client.get("/api/logs/stats?filter=bad((", headers=headers)
    assert bad.json == {"data": {}, "message": "Invalid filter format.", "status": 400}


async def test_delete_all(pbk_client, pbk_superuser, seeded):
    deleted = await pbk_client.delete("/api/logs", headers=pbk_superuser.headers)
    assert deleted.status_code == 204
    assert (await pbk_client.get("/api/logs", headers=pbk_superuser.headers)).json["totalItems"] == 0


def disk_size(path: Path) -> int:
    """The database file and its WAL."""
    wal = Path(f"{path}-wal")
    return path.stat().st_size + (wal.stat().st_size if wal.exists() else 0)


@pytest.mark.skipif(engine_under_test() == "postgresql", reason="auxiliary.db's size; on PostgreSQL autovacuum reuses the space")
@pytest.mark.parametrize("how", ["delete", "off"])
async def test_deleting_every_log_gives_the_disk_space_back(pbk_app, pbk_client, pbk_superuser, how):
    await seed(pbk_app, [(0, "big", {"pad": "x" * 2000}, 0)] * 1000)
    full = disk_size(pbk_app.aux_db.path)
    assert full > 2_000_000
    if how == "delete":  # as PocketBase: DELETE /api/logs, then VACUUM
        assert (await pbk_client.delete("/api/logs", headers=pbk_superuser.headers)).status_code == 204
    else:  # and a settings change to maxDays 0 (logging off)
        await pbk_app.settings.update({"logs": {"maxDays": 0}})
    assert disk_size(pbk_app.aux_db.path) < full // 10


@pytest.mark.parametrize("pbk_plugins", [["records", "auth", "settings", "logs", "crons"]])
async def test_the_cleanup_job_deletes_rows_older_than_max_days(pbk_app, pbk_client, pbk_superuser):
    day = 86400
    await seed(pbk_app, [(0, "old", {}, 6 * day), (0, "recent", {}, 4 * day), (0, "now", {}, 0)])
    jobs = dict(pbk_app.state[CRON_JOBS].jobs())
    assert jobs[CLEANUP_JOB] == "0 */6 * * *"
    cleaned = await pbk_client.post(f"/api/crons/{CLEANUP_JOB}", headers=pbk_superuser.headers)
    assert cleaned.status_code == 204
    deadline = time.monotonic() + 10  # the job runs in the background; maxDays is 5
    while True:
        listed = (await pbk_client.get("/api/logs?sort=created", headers=pbk_superuser.headers)).json
        if len(listed["items"]) == 2 or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.02)
    assert [i["message"] for i in listed["items"]] == ["recent", "now"]
