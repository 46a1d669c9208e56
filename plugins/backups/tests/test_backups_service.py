"""Backups in one process: one backup or restore at a time (and health says so), backups on S3
(moto), progress in the log and in ``pbk backups``."""

from __future__ import annotations

import logging
import zipfile
from io import BytesIO
from typing import Any

import pytest
from pbk_backups.archive import BackupError
from pbk_backups.lock import BackupLock
from pbk_backups.service import BACKUPS
from pbk_backups.swap import STAGED
from pbk_sdk.errors import ApiError
from pbk_sdk.events import BACKUP_CREATE, BACKUP_RESTORE, BackupEvent
from pbk_sdk.testing import make_bucket, s3_settings
from pbk_sdk.testing.postgres import engine_under_test

pytestmark = pytest.mark.skipif(engine_under_test() == "postgresql", reason="no backups with the data in PostgreSQL (test_backups_postgres)")

BUSY = "Try again later - another backup/restore process has already been started."


async def test_a_running_backup_refuses_another_everywhere(pbk_app: Any, pbk_client: Any, pbk_superuser: Any) -> None:
    headers = pbk_superuser.headers
    assert (await pbk_client.post("/api/backups", json={"name": "one.zip"}, headers=headers)).status_code == 204
    other_worker = BackupLock(pbk_app.data_dir)  # another process's lock: a separate open file
    assert other_worker.acquire("one.zip")
    try:
        health = await pbk_client.get("/api/health", headers=headers)
        assert health.json["data"]["canBackup"] is False
        create = await pbk_client.post("/api/backups", json={"name": "two.zip"}, headers=headers)
        assert (create.status_code, create.json["message"]) == (400, BUSY)
        restore = await pbk_client.post("/api/backups/one.zip/restore", headers=headers)
        assert (restore.status_code, restore.json["message"]) == (400, BUSY)
        delete = await pbk_client.delete("/api/backups/one.zip", headers=headers)
        assert delete.json["message"] == "The backup is currently being used and cannot be deleted."
        with pytest.raises(BackupError, match="another backup/restore operation has already been started"):
            await pbk_app.state[BACKUPS].create("three.zip")
    finally:
        other_worker.release()
    health = await pbk_client.get("/api/health", headers=headers)
    assert health.json["data"]["canBackup"] is True
    assert (await pbk_client.delete("/api/backups/one.zip", headers=headers)).status_code == 204


async def test_progress_is_logged(pbk_app: Any, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="pbk_backups"):
        await pbk_app.state[BACKUPS].create("logged.zip")
    assert [r.getMessage() for r in caplog.records if r.name.startswith("pbk_backups")][-1].startswith(
        "backup: logged.zip done")


async def test_backups_on_s3(pbk_app: Any, pbk_client: Any, pbk_superuser: Any, moto_server: str) -> None:
    await pbk_app.settings.update({"backups": {"s3": s3_settings(moto_server, make_bucket(moto_server))}})
    headers = pbk_superuser.headers
    assert (await pbk_client.post("/api/backups", json={"name": "on-s3.zip"}, headers=headers)).status_code == 204
    listed = await pbk_client.get("/api/backups", headers=headers)
    assert [item["key"] for item in listed.json] == ["on-s3.zip"]
    assert not (pbk_app.data_dir / "backups" / "on-s3.zip").exists()
    token = (await pbk_client.post("/api/files/token", headers=headers)).json["token"]
    download = await pbk_client.get(f"/api/backups/on-s3.zip?token={token}")
    assert download.status_code == 200
    assert "data.db" in zipfile.ZipFile(BytesIO(download.content)).namelist()
    backups = pbk_app.state[BACKUPS]
    await backups.stage_restore("on-s3.zip")  # downloaded from S3, extracted, checked
    assert (pbk_app.data_dir / STAGED / "data.db").is_file()
    await backups.discard_staged()
    assert (await pbk_client.delete("/api/backups/on-s3.zip", headers=headers)).status_code == 204
    assert (await pbk_client.get("/api/backups", headers=headers)).json == []


def test_the_cli_makes_lists_and_restores_with_progress(pbk_cli: Any, pbk_config: dict[str, Any]) -> None:
    made = pbk_cli("backups", "create", "cli.zip")
    assert made.exit_code == 0, made.output
    assert "backup: cli.zip started" in made.output and "Created backup cli.zip" in made.output
    listed = pbk_cli("backups", "list")
    assert listed.output.startswith("cli.zip\t")
    restored = pbk_cli("backups", "restore", "cli.zip")
    assert restored.exit_code == 0, restored.output
    assert "restore: cli.zip extracted and checked" in restored.output
    assert "Restored backup cli.zip" in restored.output
    missing = pbk_cli("backups", "restore", "nope.zip")
    assert missing.exit_code == 1 and "Missing or invalid backup file" in missing.output


async def test_a_download_from_outside_superuser_ips_is_refused(pbk_app: Any, pbk_client: Any,
                                                                 pbk_superuser: Any) -> None:
    headers = pbk_superuser.headers
    assert (await pbk_client.post("/api/backups", json={"name": "ip.zip"}, headers=headers)).status_code == 204
    token = (await pbk_client.post("/api/files/token", headers=headers)).json["token"]
    assert (await pbk_client.get(f"/api/backups/ip.zip?token={token}")).status_code == 200
    await pbk_app.settings.update({"superuserIPs": ["10.1.2.3"]})
    refused = await pbk_client.get(f"/api/backups/ip.zip?token={token}")
    assert (refused.status_code, refused.json["message"]) == (403, "Insufficient permissions to access the resource.")


async def test_backup_events_may_rename_exclude_and_refuse(pbk_app: Any, pbk_client: Any, pbk_superuser: Any) -> None:
    (pbk_app.data_dir / "scratch").mkdir()
    (pbk_app.data_dir / "scratch" / "big.tmp").write_bytes(b"x" * 1000)
    (pbk_app.data_dir / "kept").mkdir()
    (pbk_app.data_dir / "kept" / "notes.txt").write_text("kept")

    async def rename_and_exclude(e: BackupEvent) -> None:
        e.name = "renamed-" + e.name
        e.exclude.append("scratch")
        await e.next()

    async def refuse(e: BackupEvent) -> None:
        raise ApiError(400, f"no restoring {e.name} here")

    pbk_app.events.on(BACKUP_CREATE, rename_and_exclude)
    pbk_app.events.on(BACKUP_RESTORE, refuse)
    headers = pbk_superuser.headers
    assert (await pbk_client.post("/api/backups", json={"name": "ev.zip"}, headers=headers)).status_code == 204
    listed = await pbk_client.get("/api/backups", headers=headers)
    assert [item["key"] for item in listed.json] == ["renamed-ev.zip"]
    names = zipfile.ZipFile(pbk_app.data_dir / "backups" / "renamed-ev.zip").namelist()
    assert "kept/notes.txt" in names and not any(name.startswith("scratch") for name in names)
    backups = pbk_app.state[BACKUPS]
    with pytest.raises(ApiError, match="No restoring renamed-ev.zip here"):
        await backups.stage_restore("renamed-ev.zip")
    assert not (pbk_app.data_dir / STAGED).exists()
    assert not backups.lock.busy()  # the refused restore let go of the lock


async def test_without_a_mailer_a_failed_auto_backup_is_only_logged(
    pbk_app: Any, caplog: pytest.LogCaptureFixture
) -> None:
    assert "mailer" not in {plugin.name for plugin in pbk_app.plugins}  # these tests load none
    (pbk_app.data_dir / "backups").write_text("a file where the backups folder should be")
    with caplog.at_level(logging.ERROR, logger="pbk_backups"):
        await pbk_app.state[BACKUPS].auto_backup()
    assert any("[Backup cron] Failed to create backup" in r.getMessage() for r in caplog.records)


async def test_restore_handlers_may_pick_another_backup_and_keep_root_entries(pbk_app: Any) -> None:
    backups = pbk_app.state[BACKUPS]
    (pbk_app.data_dir / "kept").mkdir()
    (pbk_app.data_dir / "kept" / "notes.txt").write_text("in the backup")
    await backups.create("other.zip")
    (pbk_app.data_dir / "kept" / "notes.txt").write_text("current")

    async def pick_and_keep(e: BackupEvent) -> None:
        e.name = "other.zip"
        e.exclude.append("kept")
        await e.next()

    pbk_app.events.on(BACKUP_RESTORE, pick_and_keep)
    await backups.stage_restore("asked.zip")
    try:
        assert backups.lock.active() == "other.zip"  # the backup in use, not to be deleted
        staged = pbk_app.data_dir / STAGED
        assert (staged / "data.db").is_file() and not (staged / "kept").exists()
    finally:
        await backups.discard_staged()
    assert (pbk_app.data_dir / "kept" / "notes.txt").read_text() == "current"
