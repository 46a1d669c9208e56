"""Hook files on a live two-worker ``pbk serve``: reload on every worker, broken files, routes
through the JS SDK, record hooks, cron jobs, middlewares, errors in the envelope."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from pbk_sdk.testing.pocketbase import superuser_token
from pbk_sdk.testing.programs import pbk_command_superuser
from pbk_sdk.testing.servers import LiveServer, start_live_server

PLUGINS = ("records", "auth", "crons", "realtime", "hooks")
EMAIL, PASSWORD = "root@example.com", "secret-password-1"

VERSION = """\
import os
from pbk_hooks import route

@route("GET", "/version")
async def version(e):
    e.json(200, {{"version": {version}, "pid": os.getpid()}})
"""

HOOKS_DOC = Path(__file__).parents[3] / "docs" / "hooks.md"

#: Handlers of the request, auth and collection families, showing their fields in headers.
FAMILIES = """\
import json

from pbk_hooks import BadRequestError, on
from pbk_sdk.errors import FieldError
from pbk_sdk.interfaces import RECORD_STORE

@on("collection_view_request")
async def viewed(e):
    await e.next()
    e.response.set_header("X-Hook", f"{type(e).__name__} {e.params['collection']} {e.collection.name}")

@on("record_auth_with_password_request", collections=["_superusers"])
async def signing_in(e):
    e.response.set_header("X-Hook", f"{type(e).__name__} {e.collection.name}")
    await e.next()

@on("record_auth_request")
async def signed_in(e):
    await e.next()
    e.answer["meta"] = {"method": e.method, "collection": e.collection.name,
                        "email": e.record["email"], "token": e.token == e.answer["token"]}

@on("batch_request")
async def no_batches(e):
    raise BadRequestError("no batches here")

@on("collection_validate")
async def no_x_names(e):
    if e.collection.name.startswith("x_") and e.original is None:
        e.errors["name"] = FieldError("hook_no_x", "No x_ names.")
    await e.next()

@on("collection_create")
async def refuse_secret(e):
    if e.collection.name == "secret":
        raise BadRequestError("no secrets")
    await e.next()

@on("collection_after_create_error")
async def remember(e):
    store = app.services.get(RECORD_STORE, "sqlite")
    await store.create(store.collection("notes"), {"text": f"{e.collection.name}: {e.error.message}"})

@on("record_after_create_error", collections=["notes"])
async def failed_note(e):
    store = app.services.get(RECORD_STORE, "sqlite")
    await store.create(e.collection, {"text": f"failed {e.record['id']}: {e.error.message}"})

@on("record_enrich", collections=["notes"])
async def count_letters(e):
    e.record["letters"] = len(e.record["text"]) if e.auth is None else "hidden"
    await e.next()

@on("realtime_message_send")
async def tag(e):
    message = json.loads(e.data)
    message["record"]["tagged"] = f"{e.name} {e.auth}"
    e.data = json.dumps(message).encode()
    await e.next()
"""


def documented_hook_file() -> str:
    """The hook file docs/hooks.md shows (``<!-- hook-file: main.pb.py -->``), served as it is."""
    found = re.search(r"<!-- hook-file: main.pb.py -->\n```py\n(.*?)^```", HOOKS_DOC.read_text(),
                      re.DOTALL | re.MULTILINE)
    assert found is not None, "docs/hooks.md lost its hook file example"
    return found.group(1)


def write(path: Path, text: str) -> None:
    """Replace ``path`` in one step, as an editor's save does (no half-written file seen)."""
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(text)
    os.replace(temporary, path)


def until(check: Callable[[], object], timeout: float = 15.0, what: str = "") -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what or check}")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    base = tmp_path_factory.mktemp("hooks")
    hooks = base / "pb_hooks"  # the default --hooksDir, beside pb_data
    hooks.mkdir()
    write(hooks / "version.pb.py", VERSION.format(version=1))
    write(hooks / "main.pb.py", documented_hook_file())
    write(hooks / "families.pb.py", FAMILIES)
    pbk_command_superuser(base / "pb_data", PLUGINS, EMAIL, PASSWORD)
    live = start_live_server(base / "pb_data", ["--plugins", ",".join(PLUGINS), "--workers", "2"])
    token = superuser_token(live.url, EMAIL, PASSWORD)
    created = httpx.post(f"{live.url}/api/collections", headers={"Authorization": token}, json={
        "name": "notes", "type": "base", "listRule": "", "createRule": "",
        "fields": [{"name": "text", "type": "text"}]})
    assert created.status_code == 200, created.text
    yield live
    live.stop()


@pytest.fixture(scope="module")
def root(server: LiveServer) -> dict[str, str]:
    return {"Authorization": superuser_token(server.url, EMAIL, PASSWORD)}


def versions_by_worker(url: str, want: int) -> set[int]:
    """Ask on fresh connections (spread over the workers) until two workers answered
    ``want``; the workers' pids."""
    pids: set[int] = set()

    def two_workers() -> bool:
        answer = httpx.get(f"{url}/version").json()
        if answer["version"] == want:
            pids.add(answer["pid"])
        return len(pids) == 2

    until(two_workers, what=f"version {want} on both workers")
    return pids


def test_reload_reaches_every_worker(server: LiveServer) -> None:
    versions_by_worker(server.url, 1)
    write(server.data_dir.parent / "pb_hooks" / "version.pb.py", VERSION.format(version=2))
    versions_by_worker(server.url, 2)
    assert {httpx.get(f"{server.url}/version").json()["version"] for _ in range(10)} == {2}


@pytest.mark.parametrize("broken, line, message", [
    ("@route('GET', '/version')\nasync def v(e) pass\n", 2, "SyntaxError"),
    ("import os\n\nundefined_name()\n", 3, "NameError: name 'undefined_name' is not defined"),
], ids=["syntax", "raises"])
def test_broken_file_keeps_previous_version(server: LiveServer, broken: str, line: int, message: str) -> None:
    path = server.data_dir.parent / "pb_hooks" / "version.pb.py"
    write(path, VERSION.format(version=3))
    versions_by_worker(server.url, 3)
    write(path, broken)
    where = f"{path.resolve()}:{line}: {message}"
    until(lambda: server.output().count(where) == 2, what=f"{where!r} logged by both workers")
    assert {httpx.get(f"{server.url}/version").json()["version"] for _ in range(10)} == {3}


def test_removed_file_takes_its_routes(server: LiveServer) -> None:
    path = server.data_dir.parent / "pb_hooks" / "gone.pb.py"
    write(path, "from pbk_hooks import route\n\n@route('GET', '/gone')\nasync def gone(e):\n"
                "    e.string(200, 'here')\n")
    until(lambda: all(httpx.get(f"{server.url}/gone").text == "here" for _ in range(6)), what="/gone")
    path.unlink()
    until(lambda: all(httpx.get(f"{server.url}/gone").status_code == 404 for _ in range(6)),
          what="/gone removed")
    assert httpx.get(f"{server.url}/gone").json()["message"] == "File not found."


def test_routes_and_errors_through_js_sdk(server: LiveServer, js_sdk) -> None:
    result = js_sdk.run("""
        const hello = await pb.send("/hello/ada", { method: "GET" });
        let error;
        try { await pb.send("/boom", { method: "POST" }); } catch (e) { error = e; }
        output({ hello, status: error.status, response: error.response });
    """, server.url)
    assert result == {
        "hello": {"message": "Hello ada"},
        "status": 400,
        "response": {"status": 400, "message": "No boom today.",
                     "data": {"why": {"code": "not_today", "message": "Not today."}}},
    }


def test_unexpected_error_is_a_400_envelope(server: LiveServer) -> None:
    answer = httpx.get(f"{server.url}/crash")
    assert (answer.status_code, answer.json()) == (400, {
        "status": 400, "message": "Something went wrong while processing your request.", "data": {}})
    assert "main.pb.py" in server.output() and "KeyError: 'missing'" in server.output()


def test_middleware(server: LiveServer, root: dict[str, str]) -> None:
    guest = httpx.get(f"{server.url}/root-only")
    assert (guest.status_code, guest.json()["message"]) == (
        401, "The request requires valid record authorization token.")
    assert httpx.get(f"{server.url}/root-only", headers=root).json() == {"auth": "_superusers"}


def test_http_client(server: LiveServer) -> None:
    assert httpx.get(f"{server.url}/health-via-http").json() == {
        "status": 200, "body": {"message": "API is healthy.", "code": 200, "data": {}}}


def test_record_hook_and_cron_job(server: LiveServer, root: dict[str, str]) -> None:
    created = httpx.post(f"{server.url}/api/collections/notes/records", json={"text": "quiet"})
    assert (created.json()["text"], created.json()["letters"]) == ("QUIET", 5)
    listed = httpx.get(f"{server.url}/api/collections/notes/records", headers=root).json()
    assert {item["letters"] for item in listed["items"]} == {"hidden"}  # a superuser asked
    jobs = httpx.get(f"{server.url}/api/crons", headers=root).json()
    assert {"id": "write-note", "expression": "0 0 1 1 *"} in jobs
    assert httpx.post(f"{server.url}/api/crons/write-note", headers=root).status_code == 204

    def cron_note() -> bool:
        listed = httpx.get(f"{server.url}/api/collections/notes/records",
                           params={"filter": "text = 'FROM CRON'"}).json()
        return listed["totalItems"] == 1

    until(cron_note, what="the cron job's note (its create passes the record hook too)")


def test_request_and_auth_families(server: LiveServer, root: dict[str, str]) -> None:
    viewed = httpx.get(f"{server.url}/api/collections/notes", headers=root)
    assert viewed.headers["X-Hook"] == "CollectionRequestEvent notes notes"
    signed = httpx.post(f"{server.url}/api/collections/_superusers/auth-with-password",
                        json={"identity": EMAIL, "password": PASSWORD})
    assert signed.headers["X-Hook"] == "CollectionRequestEvent _superusers"
    assert signed.json()["meta"] == {"method": "password", "collection": "_superusers",
                                     "email": EMAIL, "token": True}
    batch = httpx.post(f"{server.url}/api/batch", json={"requests": []})
    assert (batch.status_code, batch.json()["message"]) == (400, "No batches here.")


def test_realtime_message_through_js_sdk(server: LiveServer, js_sdk) -> None:
    result = js_sdk.run("""
        let resolve;
        const got = new Promise((r) => { resolve = r; });
        const unsubscribe = await pb.collection("notes").subscribe("*", (e) => resolve(e));
        await pb.collection("notes").create({ text: "live" });
        const e = await got;
        await unsubscribe();
        output({ action: e.action, text: e.record.text, tagged: e.record.tagged });
    """, server.url)
    assert result == {"action": "create", "text": "LIVE", "tagged": "notes/* None"}


def test_collection_change_refused_and_its_error_event(server: LiveServer, root: dict[str, str]) -> None:
    refused = httpx.post(f"{server.url}/api/collections", headers=root, json={"name": "secret", "type": "base"})
    assert (refused.status_code, refused.json()["message"]) == (400, "No secrets.")
    assert httpx.get(f"{server.url}/api/collections/secret", headers=root).status_code == 404
    noted = httpx.get(f"{server.url}/api/collections/notes/records",
                      params={"filter": "text = 'SECRET: NO SECRETS.'"}).json()
    assert noted["totalItems"] == 1


def test_record_error_event(server: LiveServer) -> None:
    failed = httpx.post(f"{server.url}/api/collections/notes/records", json={"id": "bad id!", "text": "x"})
    assert failed.status_code == 400
    noted = httpx.get(f"{server.url}/api/collections/notes/records",
                      params={"filter": "text = 'FAILED BAD ID!: FAILED TO CREATE RECORD.'"}).json()
    assert noted["totalItems"] == 1


def test_collection_validate(server: LiveServer, root: dict[str, str]) -> None:
    refused = httpx.post(f"{server.url}/api/collections", headers=root, json={"name": "x_files", "type": "base"})
    assert (refused.status_code, refused.json()) == (400, {
        "status": 400, "message": "Failed to create collection.",
        "data": {"name": {"code": "hook_no_x", "message": "No x_ names."}}})
