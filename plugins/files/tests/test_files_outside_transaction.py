"""Uploads are stored before the write's transaction, so a slow storage never holds the
database's single writer; uploads a failed write leaves behind are deleted."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from files_testing import DOCS, NOTES, create, create_collections
from pbk_files.storage import S3Storage


@pytest.fixture
async def collections(api: Any, tokens: Any) -> dict[str, Any]:
    return await create_collections(api, tokens["superuser"], DOCS, NOTES)


@pytest.mark.parametrize("backend", ["s3"])
async def test_a_stalled_s3_upload_holds_no_other_writer(
    api: Any, storage: Any, collections: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    uploading, release = asyncio.Event(), asyncio.Event()
    real_write = S3Storage._write

    async def stalled_write(self: S3Storage, *args: Any, **kwargs: Any) -> None:
        uploading.set()
        await release.wait()
        await real_write(self, *args, **kwargs)

    monkeypatch.setattr(S3Storage, "_write", stalled_write)
    upload = asyncio.create_task(create(api, [("files", ("slow.txt", b"slow bytes", "text/plain"))]))
    try:
        await asyncio.wait_for(uploading.wait(), 10)
        other = await asyncio.wait_for(api.post("/api/collections/notes/records", json={"text": "meanwhile"}), 5)
        assert other.status_code == 200, other.text
        assert not upload.done(), "the upload is still in progress"
    finally:
        release.set()
    made = await asyncio.wait_for(upload, 30)
    assert made.status_code == 200, made.text
    [name] = made.json["files"]
    served = await api.get(f"/api/files/docs/{made.json['id']}/{name}")
    assert served.status_code == 200 and served.content == b"slow bytes"


async def test_a_write_that_fails_after_its_upload_leaves_no_object(
    api: Any, storage: Any, collections: Any
) -> None:
    docs_id = collections["docs"]["id"]
    wrong_type = await create(api, [("files", ("tool.exe", b"MZ\x90\x00" + bytes(200), "application/octet-stream"))])
    assert wrong_type.status_code == 400, wrong_type.text
    assert wrong_type.json["data"]["files"]["code"] == "validation_invalid_mime_type"
    assert await storage.list(f"{docs_id}/") == []

    first = await create(api, [("id", "takenid12345678"), ("one", ("first.txt", b"first", "text/plain"))])
    assert first.status_code == 200, first.text
    again = await create(api, [("id", "takenid12345678"), ("one", ("second.txt", b"second", "text/plain"))])
    assert again.status_code == 400, "the id is taken: the INSERT fails after the upload"
    stored = [info.key for info in await storage.list(f"{docs_id}/")]
    assert stored == [f"{docs_id}/takenid12345678/{first.json['one']}"]


async def test_a_single_file_field_keeps_the_last_upload_only(api: Any, storage: Any, collections: Any) -> None:
    made = await create(api, [("one", ("first.txt", b"a", "text/plain")), ("one", ("last.txt", b"b", "text/plain"))])
    assert made.status_code == 200, made.text
    stored = [info.key for info in await storage.list(f"{made.json['collectionId']}/{made.json['id']}")]
    assert stored == [f"{made.json['collectionId']}/{made.json['id']}/{made.json['one']}"]
    assert made.json["one"].startswith("last_"), "the last upload"
