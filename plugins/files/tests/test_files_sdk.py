"""The files plugin on what the SDK offers: S3 settings checked at save time (through the
settings plugin's ``settings_update_request``), ``after_rollback`` cleanup of new files written
outside any request, and the storages' ``save_file``."""

from __future__ import annotations

import io
import time
from typing import Any

import pytest
from files_testing import DOCS, create, stored, update
from pbk_sdk.body import UploadedFile
from pbk_sdk.testing import free_port, make_bucket, s3_settings

SAVE_ERROR = "An error occurred while saving the new settings."


@pytest.fixture
def pbk_plugins() -> list[str]:
    return ["records", "auth", "files", "settings"]


# ------------------------------------------------------------------ s3 settings on save


async def patch(api: Any, tokens: Any, body: Any) -> Any:
    return await api.patch("/api/settings", json=body, headers={"Authorization": tokens["superuser"]})


@pytest.mark.parametrize("backend", ["local"])
async def test_s3_structure_as_pocketbase(api: Any, app: Any, tokens: Any, backend: str) -> None:
    blank = {"code": "validation_required", "message": "Cannot be blank."}
    result = await patch(api, tokens, {"s3": {"enabled": True}})
    assert result.json == {"status": 400, "message": SAVE_ERROR, "data": {"s3": {
        k: blank for k in ("accessKey", "bucket", "endpoint", "region", "secret")}}}
    for endpoint in ("http://", "a b"):
        result = await patch(api, tokens, {"s3": {"enabled": False, "endpoint": endpoint}})
        assert result.json["data"] == {"s3": {"endpoint": {"code": "validation_is_url", "message": "Must be a valid URL."}}}
    # disabled, anything URL-like is fine and nothing is contacted
    result = await patch(api, tokens, {"s3": {"endpoint": "localhost:1", "bucket": "b"}})
    assert result.status_code == 200 and app.settings.get("s3.endpoint") == "localhost:1"


@pytest.mark.parametrize("backend", ["local"])
async def test_s3_connection_checked_on_save(api: Any, app: Any, tokens: Any, backend: str, moto_server: str) -> None:
    good = s3_settings(moto_server, make_bucket(moto_server))
    result = await patch(api, tokens, {"s3": good})
    assert result.status_code == 200, result.json
    assert app.settings.get("s3") == good and "secret" not in result.json["s3"]

    missing = await patch(api, tokens, {"s3": {"bucket": "pbk-no-such-bucket"}})
    assert missing.status_code == 400 and missing.json["message"] == SAVE_ERROR
    error = missing.json["data"]["s3"]["bucket"]
    assert error["code"] == "validation_s3_connection" and "NoSuchBucket" in error["message"]
    assert app.settings.get("s3") == good  # nothing saved

    started = time.monotonic()
    closed = await patch(api, tokens, {"s3": {"endpoint": f"http://127.0.0.1:{free_port()}"}})
    assert time.monotonic() - started < 5
    assert closed.status_code == 400
    assert list(closed.json["data"]["s3"]) == ["endpoint"]
    assert closed.json["data"]["s3"]["endpoint"]["code"] == "validation_s3_connection"
    assert app.settings.get("s3") == good


@pytest.mark.parametrize("backend", ["local"])
async def test_s3_not_tested_when_unchanged_or_disabled(api: Any, app: Any, tokens: Any, backend: str) -> None:
    broken = s3_settings(f"http://127.0.0.1:{free_port()}", "bucket")
    await app.settings.update({"s3": broken})  # saved behind the API's back: left alone below
    result = await patch(api, tokens, {"meta": {"appName": "x"}, "s3": {"enabled": True}})
    assert result.status_code == 200, result.json
    result = await patch(api, tokens, {"s3": {"enabled": False, "bucket": "other"}})
    assert result.status_code == 200 and app.settings.get("s3.bucket") == "other"


# ------------------------------------------------------------------ after_rollback


async def test_files_of_a_rolled_back_store_write_are_deleted(app: Any, api: Any, tokens: Any, store: Any,
                                                              storage: Any) -> None:
    made = await api.post("/api/collections", json=DOCS, headers={"Authorization": tokens["superuser"]})
    assert made.status_code == 200
    docs = store.collection("docs")

    async def attach(e: Any) -> None:  # a plugin handing the record store an upload
        e.files["files"] = [UploadedFile("a.txt", "text/plain", 5, io.BytesIO(b"hello"))]
        await e.next()

    app.events.on("record_validate", attach, collections=["docs"])
    with pytest.raises(RuntimeError):
        async with app.db.transaction():
            record = await store.create(docs, {"title": "x"})
            assert len(record["files"]) == 1
            assert await stored(storage, {"collectionId": docs.id, "id": record["id"]}) == set(record["files"])
            raise RuntimeError("later failure")
    assert await storage.list(docs.id) == []
    kept = await store.create(docs, {"title": "y"})  # committed: the file stays
    assert await stored(storage, {"collectionId": docs.id, "id": kept["id"]}) == set(kept["files"])


# ------------------------------------------------------------------ save_file


async def test_save_file_defaults(storage: Any) -> None:
    await storage.save_file("c/r/notes.txt", io.BytesIO(b"abc"), 3)
    info = await storage.stat("c/r/notes.txt")
    assert info.size == 3 and info.content_type.startswith("text/plain")
    await storage.save_file("c/r/x.bin", io.BytesIO(b"\x00\x01"), 2, content_type="application/x-test",
                            metadata={"original-filename": "x é.bin"})
    assert (await storage.stat("c/r/x.bin")).content_type == "application/x-test"
    assert b"".join([c async for c in storage.open("c/r/x.bin")]) == b"\x00\x01"


@pytest.mark.parametrize("backend", ["local"])
async def test_every_name_kept_next_to_uploads(api: Any, tokens: Any) -> None:

    made = await api.post("/api/collections", json=DOCS, headers={"Authorization": tokens["superuser"]})
    assert made.status_code == 200
    record = (await create(api, [("files", ("a.txt", b"a"))])).json
    [a] = record["files"]
    kept = (await update(api, record["id"], [("files", a), ("files", ("bee.txt", b"b"))])).json
    assert kept["files"][0] == a and len(kept["files"]) == 2


# ------------------------------------------------------------------ PBK_FILE_STORAGE


async def test_the_storage_variable_is_read_per_app_at_start_up(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from pbk import build_app
    from pbk_files.backend import storage_for
    from pbk_files.storage import LocalStorage, S3Storage

    plugins = ("records", "auth", "files")
    monkeypatch.setenv("PBK_FILE_STORAGE", "s3")
    chosen = build_app(data_dir=tmp_path / "chosen", plugins=plugins)
    await chosen.start()
    monkeypatch.delenv("PBK_FILE_STORAGE")
    by_settings = build_app(data_dir=tmp_path / "by_settings", plugins=plugins)
    await by_settings.start()
    try:
        assert isinstance(storage_for(chosen), S3Storage), "the variable wins over s3.enabled: false"
        assert isinstance(storage_for(by_settings), LocalStorage)
        monkeypatch.setenv("PBK_FILE_STORAGE", "s3")
        assert isinstance(storage_for(by_settings), LocalStorage), "read at start-up, not per call"
    finally:
        await chosen.stop()
        await by_settings.stop()
