"""The files plugin listens to record writes of collections with a file field only, so with
every default plugin loaded a plain collection's create takes the records plugin's one-step
path (no ``record_before_write``, no chains), as without the files plugin; a file field added
at run time, here or in another worker, brings its handlers back and uploads work."""

from __future__ import annotations

import secrets
import textwrap
from pathlib import Path
from typing import Any

import httpx
import pytest
from files_testing import create, multipart
from pbk_sdk import events as ev
from pbk_sdk.testing import superuser_token

SUPERUSER = ("root@example.com", "1234567890")
#: Two text fields, a number and autodates; signed-in users create (the issue's measurement).
NOTES = {
    "name": "notes", "type": "base", "createRule": '@request.auth.id != ""', "listRule": "", "viewRule": "",
    "fields": [{"name": "title", "type": "text"}, {"name": "body", "type": "text"}, {"name": "score", "type": "number"},
               {"name": "created", "type": "autodate", "onCreate": True},
               {"name": "updated", "type": "autodate", "onCreate": True, "onUpdate": True}],
}
ATTACHMENT = {"name": "attachment", "type": "file", "maxSelect": 1}
#: The chains of a write (``record_before_write`` is watched by the test itself).
WRITE_EVENTS = (ev.RECORD_VALIDATE, ev.RECORD_CREATE, ev.RECORD_UPDATE, ev.RECORD_DELETE)


@pytest.fixture
def pbk_plugins() -> list[str] | None:
    """Every installed plugin (None), as ``pip install .`` serves them."""
    return None


@pytest.mark.parametrize("backend", ["local"])
async def test_a_plain_collection_writes_in_one_step_until_it_gets_a_file_field(
    app: Any, api: Any, tokens: dict[str, str], storage: Any
) -> None:
    su = {"Authorization": tokens["superuser"]}
    made = await api.post("/api/collections", json=NOTES, headers=su)
    assert made.status_code == 200, made.text
    store = app.services.get("record_store", "sqlite")
    assert not any(app.events.has(name, store.collection("notes")) for name in (*WRITE_EVENTS, ev.RECORD_BEFORE_WRITE))

    before_write: list[str] = []

    async def observe(e: Any) -> None:  # record_before_write fires on the chained path only
        before_write.append(e.collection.name)
        await e.next()

    observer = app.events.on(ev.RECORD_BEFORE_WRITE, observe)
    try:
        user = {"Authorization": tokens["user"]}
        plain = await api.post("/api/collections/notes/records", json={"title": "a", "score": 2}, headers=user)
        assert plain.status_code == 200, plain.text
        assert before_write == [], "the create took the chained path"
        # The rule is checked on the row the one-step INSERT writes, which a refusal undoes.
        guest = await api.post("/api/collections/notes/records", json={"title": "guest"})
        taken = await api.post("/api/collections/notes/records", json={"id": plain.json["id"]}, headers=user)
        invalid = await api.post("/api/collections/notes/records", json={"id": "Not An Id!"}, headers=user)
        assert [(a.status_code, a.json["data"]) for a in (guest, taken)] == [(400, {}), (400, {})]
        assert invalid.status_code == 400 and set(invalid.json["data"]) == {"id"}, "validated after the rule"
        assert [n["title"] for n in await store.list(store.collection("notes"))] == ["a"]

        fields = [*made.json["fields"], ATTACHMENT]
        changed = await api.patch("/api/collections/notes", json={"fields": fields}, headers=su)
        assert changed.status_code == 200, changed.text
        notes = store.collection("notes")
        assert {name for name in WRITE_EVENTS if app.events.has(name, notes)} == set(WRITE_EVENTS)
        uploaded = await create(api, [("title", "b"), ("attachment", ("a.txt", b"file bytes", "text/plain"))],
                                collection="notes", headers=user)
        assert uploaded.status_code == 200, uploaded.text
        assert before_write == ["notes"]
        served = await api.get(f"/api/files/notes/{uploaded.json['id']}/{uploaded.json['attachment']}")
        assert served.status_code == 200 and served.content == b"file bytes"

        renamed = await api.patch("/api/collections/notes", json={"name": "memos"}, headers=su)
        assert renamed.status_code == 200, renamed.text
        again = await create(api, [("attachment", ("b.txt", b"more bytes", "text/plain"))], collection="memos",
                             headers=user)
        assert again.status_code == 200, again.text
        assert before_write == ["notes", "memos"]
        prefix = f"{made.json['id']}/{again.json['id']}"
        assert [info.key for info in await storage.list(prefix)] == [f"{prefix}/{again.json['attachment']}"]

        dropped = await api.patch("/api/collections/memos", json={"fields": made.json["fields"]}, headers=su)
        assert dropped.status_code == 200, dropped.text
        assert {name for name in WRITE_EVENTS if app.events.has(name, store.collection("memos"))} == set()
        last = await api.post("/api/collections/memos/records", json={"title": "c"}, headers=user)
        assert last.status_code == 200, last.text
        assert before_write == ["notes", "memos"], "a collection without file fields is plain again"
    finally:
        observer.remove()


LISTENS_PLUGIN = '''
from pbk_sdk import Route, hookimpl
from pbk_sdk import events as ev
from pbk_sdk.interfaces import RECORD_STORE


class Listens:
    """Which worker answers, and whether anything listens to a collection's record writes."""

    def __init__(self, app):
        self.app = app

    async def on_get(self, req, resp, name):
        collection = self.app.services.get(RECORD_STORE, "sqlite").collection(name)
        resp.media = {
            "worker": self.app.cluster.worker,
            "listens": [n for n in (ev.RECORD_VALIDATE, ev.RECORD_CREATE, ev.RECORD_BEFORE_WRITE)
                        if self.app.events.has(n, collection)],
        }


@hookimpl
def pbk_register_routes(app):
    return [Route("/api/_test/listens/{name}", Listens(app))]
'''


def on_each_worker(url: str, path: str, workers: int = 2, attempts: int = 64) -> dict[int, Any]:
    """``GET path`` on new connections until every worker answered: answers by worker."""
    answers: dict[int, Any] = {}
    for _ in range(attempts):
        with httpx.Client(base_url=url, timeout=15) as client:
            answer = client.get(path)
        assert answer.status_code == 200, answer.text
        answers.setdefault(answer.json()["worker"], answer.json())
        if len(answers) == workers:
            return answers
    raise AssertionError(f"only workers {sorted(answers)} answered")


@pytest.mark.slow
def test_a_file_field_added_on_one_worker_brings_the_uploads_back_on_every_worker(
    live_server_factory: Any, pbk_cli: Any, tmp_path: Path
) -> None:
    plugins_dir = tmp_path / "plugins"
    plugins_dir.mkdir()
    (plugins_dir / "listens.py").write_text(textwrap.dedent(LISTENS_PLUGIN))
    pbk_cli("superuser", "upsert", *SUPERUSER)
    server = live_server_factory(["--workers", "2", "--pluginsDir", str(plugins_dir)])
    su = {"Authorization": superuser_token(server.url, *SUPERUSER)}
    made = httpx.post(f"{server.url}/api/collections", headers=su, json={**NOTES, "createRule": ""})
    assert made.status_code == 200, made.text
    assert [answer["listens"] for answer in on_each_worker(server.url, "/api/_test/listens/notes").values()] == [[], []]

    fields = [*made.json()["fields"], ATTACHMENT]
    changed = httpx.patch(f"{server.url}/api/collections/notes", headers=su, json={"fields": fields})
    assert changed.status_code == 200, changed.text
    expected = [ev.RECORD_VALIDATE, ev.RECORD_CREATE, ev.RECORD_BEFORE_WRITE]
    assert [a["listens"] for a in on_each_worker(server.url, "/api/_test/listens/notes").values()] == [expected] * 2

    stored_by: set[int] = set()
    for _ in range(64):
        content = secrets.token_bytes(8).hex().encode()
        body, head = multipart([("attachment", ("a.txt", content, "text/plain"))])
        with httpx.Client(base_url=server.url, timeout=15) as client:
            uploaded = client.post("/api/collections/notes/records", content=body, headers=head)
            assert uploaded.status_code == 200, uploaded.text
            worker = client.get("/api/_test/listens/notes").json()["worker"]
        served = httpx.get(f"{server.url}/api/files/notes/{uploaded.json()['id']}/{uploaded.json()['attachment']}")
        assert served.status_code == 200 and served.content == content
        stored_by.add(worker)
        if stored_by == {0, 1}:
            break
    assert stored_by == {0, 1}, "both workers stored an upload"
