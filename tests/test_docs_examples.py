"""Every ``python`` block in docs/*.md and README.md runs, as its marker says.

The markers (docs/hooks.md, "Examples in these docs"): ``plugin NAME`` blocks are joined into
one plugin module, loaded with ``--pluginsDir`` and exercised by ``PLUGIN_CHECKS[NAME]``;
``shell`` blocks run with ``app`` started, as in ``pbk shell`` (``SHELL_CHECKS`` look at what
a named one left behind); ``pytest PLUGIN`` blocks run under pytest with that plugin example.
Every block runs: a block without a marker, or with another, fails.
"""

from __future__ import annotations

import ast
import asyncio
import contextlib
import logging
import re
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from subprocess import PIPE
from typing import Any

import falcon.testing
import orjson
import pytest
from pbk import build_app
from pbk_sdk.errors import PluginError
from pbk_sdk.events import MAIL_SEND, SETTINGS_UPDATE_REQUEST, MailEvent, SettingsUpdateEvent
from pbk_sdk.interfaces import FILE_STORAGE, RECORD_STORE, MailMessage

ROOT = Path(__file__).parents[1]
DOC_FILES = [*sorted((ROOT / "docs").glob("*.md")), ROOT / "README.md"]
FENCE = re.compile(r"^```python\n(.*?)^```", re.DOTALL | re.MULTILINE)
MARKER = re.compile(r"<!-- example: (plugin|shell|pytest)(?: ([a-z_]+))? -->")
DEFAULT_PLUGINS = ["records", "auth", "files", "realtime", "mailer", "settings", "crons"]
SUPERUSER = ("root@example.com", "1234567890")


@dataclass(frozen=True)
class Example:
    path: Path
    line: int
    kind: str | None
    name: str
    code: str

    def __repr__(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"


def find_examples() -> list[Example]:
    """Every python block of the docs, with the marker on the line just before it."""
    found = []
    for path in DOC_FILES:
        text = path.read_text()
        for match in FENCE.finditer(text):
            before = text[: match.start()].rstrip("\n").rsplit("\n", 1)[-1]
            marker = MARKER.fullmatch(before)
            found.append(Example(
                path=path,
                line=text.count("\n", 0, match.start()) + 1,
                kind=marker[1] if marker else None,
                name=(marker[2] or "") if marker else "",
                code=match[1],
            ))
    return found


EXAMPLES = find_examples()


def of_kind(kind: str) -> list[Example]:
    return [e for e in EXAMPLES if e.kind == kind]


def plugin_source(name: str) -> str:
    blocks = [e.code for e in of_kind("plugin") if e.name == name]
    assert blocks, f"no plugin example named {name!r} in the docs"
    return "\n\n".join(blocks)


def run_code(code: str, namespace: dict[str, Any], filename: str) -> Awaitable[Any] | None:
    """Execute ``code`` as ``pbk shell`` does: a coroutine comes back if it awaits at top level."""
    compiled = compile(code, filename, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    result: Awaitable[Any] | None = eval(compiled, namespace)
    return result


# --------------------------------------------------------------------------- apps


@contextlib.asynccontextmanager
async def started(tmp_path: Path, plugins: list[str], plugins_dir: Path | None = None) -> AsyncIterator[tuple[Any, Any]]:
    """A started app on ``tmp_path/pb_data`` and a falcon conductor over it."""
    app = build_app(data_dir=tmp_path / "pb_data", plugins=plugins, plugins_dir=plugins_dir)
    await app.start()
    try:
        async with falcon.testing.ASGIConductor(app.asgi) as client:
            yield app, client
    finally:
        await app.stop()


async def superuser(app: Any, client: Any) -> dict[str, str]:
    """Headers of a superuser created for the test."""
    store = app.services.get(RECORD_STORE, "sqlite")
    identity, password = SUPERUSER
    await store.create(store.collection("_superusers"), {"email": identity, "password": password})
    return await sign_in(client, "_superusers", identity, password)


async def sign_in(client: Any, collection: str, identity: str, password: str) -> dict[str, str]:
    result = await client.post(f"/api/collections/{collection}/auth-with-password",
                               json={"identity": identity, "password": password})
    assert result.status_code == 200, result.text
    return {"Authorization": result.json["token"]}


async def create_collection(client: Any, headers: dict[str, str], definition: dict[str, Any]) -> None:
    result = await client.post("/api/collections", headers=headers, json=definition)
    assert result.status_code == 200, result.text


# --------------------------------------------------------------------------- plugin checks


async def check_visits(plugins_dir: Path, tmp_path: Path, caplog: Any) -> None:
    async with started(tmp_path, [], plugins_dir) as (_, client):
        await client.post("/api/visits/home")
        second = await client.post("/api/visits/home")
        too_long = await client.post("/api/visits/" + "x" * 101)
    assert second.json == {"page": "home", "visits": 2}
    assert too_long.status_code == 400
    assert too_long.json["message"] == "Page names are at most 100 characters."


async def check_greetings(plugins_dir: Path, tmp_path: Path, caplog: Any) -> None:
    """Every hook the pieces in docs/hooks.md implement does its part."""
    caplog.set_level(logging.INFO, logger="pbk")
    async with started(tmp_path, ["records"], plugins_dir) as (app, client):
        greeted = app.services.get(RECORD_STORE, "sqlite").collection("greeted")
        assert greeted is not None and greeted.system  # pbk_register_system_collections
        assert app.settings.get("greetings.salutation") == "Hello"
        await client.post("/api/greetings/ada")
        second = await client.post("/api/greetings/ada")
        assert second.json == {"greeting": "Hello ada", "times": 2}
        assert second.headers["Server-Timing"] == "app"  # pbk_register_middleware
        await app.settings.update({"greetings": {"salutation": "Hi"}})
    assert "greetings: 1 people greeted" in caplog.text  # pbk_shutdown
    command = [sys.executable, "-m", "pbk", "--plugins", "", "--pluginsDir", str(plugins_dir),
               "--dir", str(tmp_path / "pb_data"), "greet", "bob"]
    greeting = await asyncio.create_subprocess_exec(*command, stdout=PIPE, stderr=PIPE)
    out, err = await greeting.communicate()
    assert out.decode().strip() == "Hi bob (1)", err.decode()  # pbk_register_commands
    async with started(tmp_path, [], plugins_dir) as (app, _):
        await app.settings.update({"greetings": {"salutation": ""}})
    with pytest.raises(PluginError, match="greet with what"):  # pbk_startup's StartupError
        async with started(tmp_path, [], plugins_dir):
            pass


async def check_owners(plugins_dir: Path, tmp_path: Path, caplog: Any) -> None:
    """Posts get their creator as owner, whatever the client sent."""
    async with started(tmp_path, ["records", "auth"], plugins_dir) as (app, client):
        root = await superuser(app, client)
        await create_collection(client, root, {
            "name": "posts", "type": "base", "createRule": "",
            "fields": [{"name": "title", "type": "text"},
                       {"name": "owner", "type": "relation", "collectionId": "_pb_users_auth_", "maxSelect": 1}]})
        store = app.services.get(RECORD_STORE, "sqlite")
        ada = await store.create(store.collection("users"), {"email": "ada@example.com", "password": "ada-password"})
        bob = await store.create(store.collection("users"), {"email": "bob@example.com", "password": "bob-password"})
        headers = await sign_in(client, "users", "ada@example.com", "ada-password")
        by_ada = await client.post("/api/collections/posts/records", headers=headers,
                                   json={"title": "mine", "owner": bob["id"]})
        by_guest = await client.post("/api/collections/posts/records", json={"title": "anonymous", "owner": bob["id"]})
    assert by_ada.status_code == 200, by_ada.text
    assert by_ada.json["owner"] == ada["id"]
    assert by_guest.status_code == 200, by_guest.text
    assert by_guest.json["owner"] == ""


async def check_scrypt_passwords(plugins_dir: Path, tmp_path: Path, caplog: Any) -> None:
    """New passwords are stored with scrypt; passwords stored with bcrypt still sign in."""
    async with started(tmp_path, ["records", "auth"], plugins_dir) as (app, client):
        store = app.services.get(RECORD_STORE, "sqlite")
        users = store.collection("users")
        await store.create(users, {"email": "old@example.com", "password": "old-password"})
        await app.settings.update({"passwordHasher": {"name": "scrypt"}})
        await store.create(users, {"email": "new@example.com", "password": "new-password"})
        stored = await app.db.read(lambda conn: dict(conn.execute("SELECT email, password FROM users")))
        assert stored["new@example.com"].startswith("scrypt$")
        assert stored["old@example.com"].startswith("$2")
        await sign_in(client, "users", "old@example.com", "old-password")
        await sign_in(client, "users", "new@example.com", "new-password")
        wrong = await client.post("/api/collections/users/auth-with-password",
                                  json={"identity": "new@example.com", "password": "not-it"})
        assert wrong.status_code == 400


async def check_memory_files(plugins_dir: Path, tmp_path: Path, caplog: Any) -> None:
    """With PBK_FILE_STORAGE=memory, uploads are kept, served (ranges too) and deleted in memory."""
    with pytest.MonkeyPatch.context() as env:
        env.setenv("PBK_FILE_STORAGE", "memory")
        async with started(tmp_path, ["records", "auth", "files"], plugins_dir) as (app, client):
            await create_collection(client, await superuser(app, client), {
                "name": "notes", "type": "base", "createRule": "", "viewRule": "", "deleteRule": "",
                "fields": [{"name": "attachment", "type": "file", "maxSelect": 1, "maxSize": 1000}]})
            created = await client.simulate_post(
                "/api/collections/notes/records", body=MULTIPART_NOTE, content_type=MULTIPART_TYPE)
            assert created.status_code == 200, created.text
            url = f"/api/files/notes/{created.json['id']}/{created.json['attachment']}"
            assert (await client.get(url)).content == b"some notes"
            assert (await client.get(url, headers={"Range": "bytes=5-9"})).content == b"notes"
            storage = app.services.get(FILE_STORAGE, "memory")
            assert [info.size for info in await storage.list(created.json["collectionId"])] == [10]
            deleted = await client.delete(f"/api/collections/notes/records/{created.json['id']}")
            assert deleted.status_code == 204
            assert storage.files == {}
    assert not (tmp_path / "pb_data" / "storage").exists()


MULTIPART_TYPE = "multipart/form-data; boundary=docs-example"
MULTIPART_NOTE = (
    b"--docs-example\r\n"
    b'Content-Disposition: form-data; name="attachment"; filename="notes.txt"\r\n'
    b"Content-Type: text/plain\r\n\r\n"
    b"some notes\r\n"
    b"--docs-example--\r\n"
)


PLUGIN_CHECKS: dict[str, Callable[[Path, Path, Any], Awaitable[None]]] = {
    "visits": check_visits,
    "greetings": check_greetings,
    "owners": check_owners,
    "scrypt_passwords": check_scrypt_passwords,
    "memory_files": check_memory_files,
}


# --------------------------------------------------------------------------- shell checks


async def check_mail_filter(app: Any, namespace: dict[str, Any]) -> None:
    message = MailMessage(to=[("Tess", "tess@test.invalid")], subject="Hi")
    event = await app.events.trigger(MAIL_SEND, MailEvent(app=app, message=message))
    assert event.cancelled


async def check_batch_settings(app: Any, namespace: dict[str, Any]) -> None:
    event = await app.events.trigger(SETTINGS_UPDATE_REQUEST, SettingsUpdateEvent(settings={"batch": {"maxRequests": 0}}))
    assert event.errors["batch"]["maxRequests"].code == "validation_required"


async def check_store_filter(app: Any, namespace: dict[str, Any]) -> None:
    assert [record["title"] for record in namespace["found"]] == ["x marks the spot"]


async def check_custom_message(app: Any, namespace: dict[str, Any]) -> None:
    """The receiver the example registered got the message (the broker delivers in a task)."""
    for _ in range(200):
        if namespace["received"]:
            break
        await asyncio.sleep(0.01)
    [message] = [m for m in namespace["received"] if m.topic == "@oauth2"]
    assert message.client_id == namespace["state"] == "the-client-id"
    assert orjson.loads(message.data) == {"state": "the-client-id", "code": "the-provider-code"}


SHELL_CHECKS: dict[str, Callable[[Any, dict[str, Any]], Awaitable[None]]] = {
    "mail_filter": check_mail_filter,
    "batch_settings": check_batch_settings,
    "store_filter": check_store_filter,
    "custom_message": check_custom_message,
}


# --------------------------------------------------------------------------- tests


def test_every_python_block_has_a_marker():
    unmarked = [e for e in EXAMPLES if e.kind is None]
    assert not unmarked, f"python blocks without an <!-- example: ... --> marker: {unmarked}"


def test_every_check_has_its_example():
    assert set(PLUGIN_CHECKS) == {e.name for e in of_kind("plugin")}
    assert set(SHELL_CHECKS) <= {e.name for e in of_kind("shell")}


@pytest.mark.parametrize("name", sorted({e.name for e in of_kind("plugin")}))
async def test_plugin_examples_work(name: str, tmp_path: Path, caplog: Any):
    plugins_dir = tmp_path / "plugins"
    plugins_dir.mkdir()
    (plugins_dir / f"{name}.py").write_text(plugin_source(name))
    check = PLUGIN_CHECKS.get(name)
    assert check is not None, f"the plugin example {name!r} has no check in PLUGIN_CHECKS"
    await check(plugins_dir, tmp_path, caplog)


@pytest.mark.parametrize("example", of_kind("shell"), ids=repr)
async def test_shell_examples_run(example: Example, tmp_path: Path):
    async with started(tmp_path, DEFAULT_PLUGINS) as (app, client):
        await create_collection(client, await superuser(app, client), {
            "name": "posts", "type": "base",
            "fields": [{"name": "title", "type": "text"}, {"name": "author", "type": "text"}]})
        namespace: dict[str, Any] = {"app": app, "__name__": "__pbk_shell__"}
        pending = run_code(example.code, namespace, repr(example))
        if pending is not None:
            await pending
        if example.name:
            await SHELL_CHECKS[example.name](app, namespace)


@pytest.mark.parametrize("example", of_kind("pytest"), ids=repr)
def test_pytest_examples_pass(example: Example, tmp_path: Path):
    plugins_dir = tmp_path / "plugins"
    plugins_dir.mkdir()
    (plugins_dir / f"{example.name}.py").write_text(plugin_source(example.name))
    (tmp_path / "pytest.ini").write_text("[pytest]\nasyncio_mode = auto\n")
    (tmp_path / "conftest.py").write_text(textwrap.dedent(f"""
        from pathlib import Path

        import pytest

        @pytest.fixture
        def pbk_config(pbk_config):
            return {{**pbk_config, "plugins_dir": Path({str(plugins_dir)!r})}}
    """))
    (tmp_path / "test_example.py").write_text(example.code)
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
                            cwd=tmp_path, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert " passed" in result.stdout and "failed" not in result.stdout
