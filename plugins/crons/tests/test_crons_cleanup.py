"""PocketBase's system jobs, run through ``POST /api/crons/{id}``: expired ``_otps`` and
``_mfas`` rows go, by each auth collection's own duration, fresh ones stay; the DB job empties
the WAL into the database file."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pbk_crons.system_jobs import pocketbase_datetime
from pbk_sdk.testing.postgres import engine_under_test

OTP_ROW = {"password": "12345678", "sentTo": ""}
MFA_ROW = {"method": "password"}


async def stored_ids(app: Any, table: str) -> set[str]:
    rows = await app.db.read(lambda conn: conn.execute(f'SELECT id FROM "{table}"').fetchall())
    return {row[0] for row in rows}


async def age(app: Any, table: str, record_id: str, seconds: float) -> None:
    created = pocketbase_datetime(datetime.now(UTC) - timedelta(seconds=seconds))
    await app.db.write(lambda conn: conn.execute(f'UPDATE "{table}" SET created = ? WHERE id = ?', (created, record_id)))


async def eventually_equal(read: Any, expected: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while (found := await read()) != expected:
        assert time.monotonic() < deadline, f"{found} != {expected}"
        await asyncio.sleep(0.02)


@pytest.mark.parametrize(("job", "table", "option", "row"), [
    ("__pbOTPCleanup__", "_otps", "otp", OTP_ROW),
    ("__pbMFACleanup__", "_mfas", "mfa", MFA_ROW),
])
async def test_the_cleanup_job_deletes_rows_older_than_their_collections_duration(
    pbk_app: Any, pbk_client: Any, pbk_superuser: Any, job: str, table: str, option: str, row: dict[str, str]
) -> None:
    store = pbk_app.services.get("record_store", "sqlite")
    users = store.collection("users")
    short = await pbk_client.post("/api/collections", headers=pbk_superuser.headers, json={
        "name": "staff", "type": "auth", option: {"duration": 60}})
    assert short.status_code == 200, short.text
    staff = store.collection("staff")
    ada = await store.create(users, {"email": "ada2@example.com", "password": "1234567890"})
    bob = await store.create(staff, {"email": "bob@example.com", "password": "1234567890"})
    rows = store.collection(table)
    ages = {"users-old": (users, ada, 100_000), "users-new": (users, ada, 100),
            "staff-old": (staff, bob, 120), "staff-new": (staff, bob, 30)}
    ids = {}
    for name, (collection, record, seconds) in ages.items():
        created = await store.create(rows, {"collectionRef": collection.id, "recordRef": record["id"], **row})
        await age(pbk_app, table, created["id"], seconds)
        ids[name] = created["id"]
    # users: PocketBase's default durations (otp 180 s, mfa 600 s); staff: 60 s.
    answer = await pbk_client.post(f"/api/crons/{job}", headers=pbk_superuser.headers)
    assert (answer.status_code, answer.content) == (204, b"")
    await eventually_equal(lambda: stored_ids(pbk_app, table), {ids["users-new"], ids["staff-new"]})


@pytest.mark.skipif(engine_under_test() == "postgresql", reason="SQLite's WAL; test_crons_postgres tests the job there")
async def test_the_db_job_checkpoints_and_truncates_the_wal(pbk_app: Any, pbk_client: Any, pbk_superuser: Any) -> None:
    """The blob moves from the WAL into data.db (``PRAGMA optimize`` comes after the checkpoint,
    as in PocketBase, and may write a little to the WAL again)."""
    wal, database = pbk_app.data_dir / "data.db-wal", pbk_app.data_dir / "data.db"
    before = database.stat().st_size
    await pbk_app.db.write(lambda conn: conn.execute("CREATE TABLE filler (x)"))
    await pbk_app.db.write(lambda conn: conn.execute("INSERT INTO filler VALUES (randomblob(200000))"))
    assert wal.stat().st_size > 200_000
    answer = await pbk_client.post("/api/crons/__pbDBOptimize__", headers=pbk_superuser.headers)
    assert answer.status_code == 204

    async def checkpointed() -> bool:
        return database.stat().st_size > before + 200_000 and wal.stat().st_size < 100_000

    await eventually_equal(checkpointed, True)
