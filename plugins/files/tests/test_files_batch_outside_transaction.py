"""A ``/api/batch`` stores its uploads before its transaction begins, so a stuck S3 endpoint
never holds the database's single writer; a batch that fails or rolls back leaves no file
behind, one that succeeds keeps exactly the files its records name (named twice, as
PocketBase names a batch's files)."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
from files_testing import DOCS, NOTES, create_collections, multipart, stored
from pbk_sdk import events as ev
from pbk_sdk.testing import s3_settings

#: A batch file's stored name: the client's name, then two random parts.
BATCH_NAME = re.compile(r"[a-z0-9_]+_[a-z0-9]{10}_[a-z0-9]{10}\.txt")


@pytest.fixture
async def collections(app: Any, api: Any, tokens: dict[str, str]) -> dict[str, Any]:
    await app.settings.update({"batch": {"enabled": True, "timeout": 30}})
    return await create_collections(api, tokens["superuser"], DOCS, NOTES)


async def batch(api: Any, requests: list[dict[str, Any]], files: list[tuple[str, Any]]) -> Any:
    body, head = multipart([("@jsonPayload", json.dumps({"requests": requests})), *files])
    return await api.post("/api/batch", body=body, headers=head)


def txt(name: str, content: bytes) -> tuple[str, bytes, str]:
    return (name, content, "text/plain")


CREATE_DOC = {"method": "POST", "url": "/api/collections/docs/records", "body": {"title": "x"}}
CREATE_NOTE = {"method": "POST", "url": "/api/collections/notes/records", "body": {"text": "first"}}


class StuckPeer:
    """A real TCP server that accepts connections and never answers, until ``release()``:
    then it hangs up on every connection, held or new."""

    def __init__(self) -> None:
        self.connected = asyncio.Event()
        self.released = asyncio.Event()
        self.url = ""

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connected.set()
        await self.released.wait()
        writer.close()

    def release(self) -> None:
        self.released.set()


@pytest.fixture
async def stuck_s3() -> AsyncIterator[StuckPeer]:
    peer = StuckPeer()
    server = await asyncio.start_server(peer._serve, "127.0.0.1", 0)
    peer.url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    try:
        yield peer
    finally:
        peer.release()
        server.close()
        await server.wait_closed()


@pytest.mark.parametrize("backend", ["local"])
async def test_a_batch_stuck_on_s3_holds_no_other_writer(
    app: Any, api: Any, collections: Any, stuck_s3: StuckPeer
) -> None:
    await app.settings.update({"s3": s3_settings(stuck_s3.url, "stuck-bucket")})
    uploading = asyncio.create_task(batch(api, [CREATE_NOTE, CREATE_DOC], [("requests.1.files", txt("a.txt", b"a"))]))
    try:
        await asyncio.wait_for(stuck_s3.connected.wait(), 10)
        plain = await asyncio.wait_for(api.post("/api/collections/notes/records", json={"text": "meanwhile"}), 5)
        assert plain.status_code == 200, plain.text
        chained = await asyncio.wait_for(api.post("/api/collections/docs/records", json={"title": "no file"}), 5)
        assert chained.status_code == 200, chained.text
        assert not uploading.done(), "the batch still waits on S3"
    finally:
        stuck_s3.release()
    failed = await asyncio.wait_for(uploading, 30)
    assert failed.status_code >= 400, failed.text
    store = app.services.get("record_store", "sqlite")
    notes = await store.list(store.collection("notes"))
    assert [note["text"] for note in notes] == ["meanwhile"], "the batch's note rolled back"


async def test_a_failed_batch_leaves_no_file_behind(app: Any, api: Any, collections: Any, storage: Any) -> None:
    docs_id = collections["docs"]["id"]
    existing = await api.post("/api/collections/docs/records", json={"title": "kept as it is"})
    assert existing.status_code == 200, existing.text
    update = {"method": "PATCH", "url": f"/api/collections/docs/records/{existing.json['id']}", "body": {}}
    missing = {"method": "POST", "url": "/api/collections/missing/records", "body": {}}
    failed = await batch(api, [CREATE_DOC, update, CREATE_NOTE, missing], [
        ("requests.0.files", txt("a.txt", b"a")), ("requests.0.files", txt("b.txt", b"b")),
        ("requests.1.one", txt("c.txt", b"c")),
    ])
    assert failed.status_code == 400, failed.text
    assert failed.json["data"]["requests"]["3"]["code"] == "batch_request_failed"
    assert await storage.list(f"{docs_id}/") == []

    bad_type = await batch(api, [CREATE_DOC], [("requests.0.files", ("tool.exe", b"MZ\x90\x00" + bytes(64)))])
    assert bad_type.status_code == 400, bad_type.text
    assert await storage.list(f"{docs_id}/") == []


async def test_a_successful_batch_keeps_the_files_its_records_name(api: Any, collections: Any, storage: Any) -> None:
    existing = await api.post("/api/collections/docs/records", json={"title": "to update"})
    assert existing.status_code == 200, existing.text
    update = {"method": "PATCH", "url": f"/api/collections/docs/records/{existing.json['id']}", "body": {}}
    upsert = {"method": "PUT", "url": "/api/collections/docs/records", "body": {"title": "upserted"}}
    done = await batch(api, [CREATE_DOC, update, upsert], [
        ("requests.0.files", txt("a.txt", b"a")), ("requests.0.files", txt("b.txt", b"b")),
        ("requests.1.one", txt("first.txt", b"1")), ("requests.1.one", txt("last.txt", b"2")),
        ("requests.2.one", txt("up.txt", b"u")),
    ])
    assert done.status_code == 200, done.text
    created, updated, upserted = (item["body"] for item in done.json)
    assert await stored(storage, created) == set(created["files"]) and len(created["files"]) == 2
    assert await stored(storage, updated) == {updated["one"]}, "a single-file field keeps the last upload only"
    assert updated["one"].startswith("last_")
    assert await stored(storage, upserted) == {upserted["one"]}
    assert all(BATCH_NAME.fullmatch(name) for name in [*created["files"], updated["one"], upserted["one"]])
    served = await api.get(f"/api/files/docs/{upserted['id']}/{upserted['one']}")
    assert served.status_code == 200 and served.content == b"u"


@pytest.mark.parametrize("backend", ["local"])
async def test_an_id_a_handler_gives_a_batch_create_still_gets_its_files(
    app: Any, api: Any, collections: Any, storage: Any
) -> None:
    """The uploads were stored under the id the batch chose; a ``record_create_request``
    handler that names another stores them again there, and the first copies go."""

    async def choose_id(e: Any) -> None:
        e.body["id"] = "chosenbyhandler"
        await e.next()

    subscription = app.events.on(ev.RECORD_CREATE_REQUEST, choose_id, collections=["docs"])
    try:
        done = await batch(api, [CREATE_DOC], [("requests.0.files", txt("a.txt", b"a"))])
    finally:
        subscription.remove()
    assert done.status_code == 200, done.text
    record = done.json[0]["body"]
    assert record["id"] == "chosenbyhandler"
    docs_id = collections["docs"]["id"]
    assert [info.key for info in await storage.list(f"{docs_id}/")] == [f"{docs_id}/chosenbyhandler/{record['files'][0]}"]


async def test_a_batch_of_hundreds_of_items_into_a_file_collection(app: Any, api: Any, collections: Any) -> None:
    """Each item's ``record_before_write`` chain nests in the one before: 500 of them once
    overflowed the stack (a 500 answer)."""
    await app.settings.update({"batch": {"maxRequests": 1000}})
    requests = [{**CREATE_DOC, "body": {"title": f"doc {n}"}} for n in range(500)]
    done = await batch(api, requests, [("requests.499.files", txt("last.txt", b"last"))])
    assert done.status_code == 200, done.text[:500]
    assert [item["status"] for item in done.json] == [200] * 500
    [name] = done.json[-1]["body"]["files"]
    assert BATCH_NAME.fullmatch(name)
