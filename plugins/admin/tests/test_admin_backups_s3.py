"""Backups kept in an S3 bucket, set up in a real browser against a real S3 server (moto): the
``backups.s3`` settings saved (the secret write-only), a failing and a passing connection test,
the server's errors beside the inputs, and a backup made from the dashboard landing in the
bucket."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import httpx
import minio
import pytest
from dashboard_server import ROOT, add_root, open_signed_in, serve_prepared
from pbk_sdk.testing import LiveServer, make_bucket, superuser_token
from pbk_sdk.testing.postgres import engine_under_test
from playwright.sync_api import expect


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    live = serve_prepared(tmp_path_factory.mktemp("backups-s3") / "pb_data", add_root)
    yield live
    live.stop()


def stored_settings(server: LiveServer) -> Any:
    """The settings as stored (with the secrets the API never answers)."""
    with closing(sqlite3.connect(Path(server.data_dir) / "data.db")) as conn:
        return json.loads(conn.execute("SELECT value FROM _params WHERE id = 'settings'").fetchone()[0])


def objects(endpoint: str, bucket: str) -> list[str]:
    client = minio.Minio(endpoint.split("://", 1)[1], access_key="test", secret_key="test", secure=False,
                         region="us-east-1")
    return sorted(item.object_name for item in client.list_objects(bucket))


@pytest.mark.skipif(engine_under_test() == "postgresql", reason="no backups with the data in PostgreSQL (test_backups_postgres)")
def test_backups_on_s3_from_the_dashboard(server: LiveServer, moto_server: str, page: Any) -> None:
    bucket = make_bucket(moto_server)
    open_signed_in(page, server, *ROOT)
    page.get_by_role("navigation", name="Sections").get_by_role("link", name="Settings").click()
    page.get_by_role("navigation", name="Settings").get_by_role("link", name="Backups").click()
    expect(page.get_by_role("heading", name="Backups", level=1)).to_be_visible()

    page.get_by_label("Store backups in an S3-compatible bucket").check()
    page.get_by_label("Endpoint").fill(moto_server)
    page.get_by_label("Region").fill("us-east-1")
    page.get_by_label("Access key").fill("test")
    with page.watch.expect(400):
        page.get_by_role("button", name="Save changes").click()
        expect(page.locator("#backups-s3-bucket-error")).to_have_text("Cannot be blank.")
    expect(page.locator("#backups-s3-secret-error")).to_have_text("Cannot be blank.")

    # A bucket that does not exist saves (as in PocketBase) and fails the connection test.
    page.get_by_label("Bucket", exact=True).fill("no-such-bucket")
    page.get_by_label("Secret").fill("test")
    page.get_by_label("Force path-style addressing").check()
    with page.watch.expect(400):  # the list of backups, now read from the missing bucket
        page.get_by_role("button", name="Save changes").click()
        expect(page.get_by_text("Settings saved.")).to_be_visible()
        expect(page.get_by_text("Failed to retrieve backup items.", exact=False)).to_be_visible()
        page.get_by_role("button", name="Test connection").click()
        expect(page.get_by_text("Failed to test the S3 filesystem.", exact=False)).to_be_visible()
    assert stored_settings(server)["backups"]["s3"]["secret"] == "test"

    # The real bucket; the secret left empty keeps the stored one.
    page.get_by_label("Bucket", exact=True).fill(bucket)
    expect(page.get_by_role("button", name="Test connection")).to_be_disabled()  # unsaved changes
    # the first save's toast may still be shown: the answer tells this save is done
    with page.expect_response(lambda answer: answer.request.method == "PATCH") as saving:
        page.get_by_role("button", name="Save changes").click()
    assert saving.value.ok
    page.get_by_role("button", name="Test connection").click()
    expect(page.get_by_text("The S3 bucket answers.")).to_be_visible()
    saved = stored_settings(server)["backups"]["s3"]
    assert (saved["enabled"], saved["bucket"], saved["secret"], saved["forcePathStyle"]) == (
        True, bucket, "test", True)
    headers = {"Authorization": superuser_token(server.url, *ROOT)}
    answered = httpx.get(f"{server.url}/api/settings", headers=headers)
    assert "secret" not in answered.json()["backups"]["s3"]

    page.get_by_label("Backup name").fill("on-s3.zip")
    page.get_by_role("button", name="Create backup").click()
    expect(page.get_by_role("cell", name="on-s3.zip", exact=True)).to_be_visible()
    assert "on-s3.zip" in objects(moto_server, bucket)
    assert not (Path(server.data_dir) / "backups" / "on-s3.zip").exists()
