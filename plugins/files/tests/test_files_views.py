"""A view collection's file fields are served from the folder of the source record that holds
the file, as PocketBase serves them (a view's records store nothing of their own)."""

from __future__ import annotations

from typing import Any

import pytest
from files_testing import DOCS, create


@pytest.fixture
async def docs(api: Any, tokens: Any) -> Any:
    made = await api.post("/api/collections", json=DOCS, headers={"Authorization": tokens["superuser"]})
    assert made.status_code == 200, made.text
    return made.json


async def make_view(api: Any, tokens: Any, name: str, query: str) -> None:
    made = await api.post("/api/collections", headers={"Authorization": tokens["superuser"]}, json={
        "name": name, "type": "view", "listRule": "", "viewRule": "", "viewQuery": query})
    assert made.status_code == 200, made.text


async def test_view_file_fields_are_served_from_the_source_records_folder(api: Any, tokens: Any, docs: Any) -> None:
    made = await create(api, [("files", ("a.txt", b"first file", "text/plain")),
                              ("files", ("b.txt", b"second file", "text/plain")),
                              ("one", ("single.txt", b"the single one", "text/plain"))])
    assert made.status_code == 200, made.text
    record_id, (first, second), single = made.json["id"], made.json["files"], made.json["one"]
    await make_view(api, tokens, "doc_files", "SELECT id, files, one FROM docs")
    await make_view(api, tokens, "renamed_files", "SELECT (id || 'v') AS id, one AS attachment FROM doc_files")

    for collection, view_id, name, content in [
        ("doc_files", record_id, second, b"second file"),
        ("doc_files", record_id, single, b"the single one"),
        ("renamed_files", record_id + "v", single, b"the single one"),  # a view of a view, another id
    ]:
        served = await api.get(f"/api/files/{collection}/{view_id}/{name}")
        assert served.status_code == 200 and served.content == content, (collection, name)

    assert (await api.get(f"/api/files/doc_files/{record_id}/{first}")).content == b"first file"
    missing = await api.get(f"/api/files/renamed_files/{record_id}v/{first}")
    assert missing.status_code == 404, "not a file of that view field"
    assert missing.json == {"status": 404, "message": "The requested resource wasn't found.", "data": {}}
