"""A third-party plugin, as someone would publish it: its own package, installed with pip.

The test writes the packages, builds their wheels, installs them into a fresh virtual
environment layered over the pbk installation under test (``fresh_venv``), and drives ``pbk``
there.
"""

from __future__ import annotations

import json
import subprocess
import textwrap
from pathlib import Path

import httpx
import pytest
from fresh_venv import build_wheels, install_wheels, layered_venv
from pbk_sdk.testing import start_live_server

pytestmark = pytest.mark.slow

EXAMPLE_PLUGIN = '''
"""Says hello, counts greetings, and tags every response."""
from pathlib import Path

from pbk_sdk import ApiError, Migration, PluginInfo, Route, hookimpl

PLUGIN = PluginInfo(name="example", description="An example third-party plugin.")


def create_greetings(conn):
    conn.execute("CREATE TABLE greetings (name TEXT NOT NULL)")


class Greeting:
    def __init__(self, app):
        self.app = app

    async def on_post(self, req, resp, name):
        if not name.isalpha():
            raise ApiError(400, "names are letters only", {"name": {"code": "validation_invalid_format", "message": "Letters only."}})
        count = await self.app.db.write(record_greeting, name)
        resp.media = {"hello": name, "count": count}


def record_greeting(conn, name):
    conn.execute("INSERT INTO greetings (name) VALUES (?)", (name,))
    return conn.execute("SELECT COUNT(*) FROM greetings").get


@hookimpl
def pbk_register_migrations(app):
    return [Migration("1763000000_example_greetings.py", create_greetings)]


@hookimpl
def pbk_register_routes(app):
    return [Route("/api/example/hello/{name}", Greeting(app))]


@hookimpl
def pbk_startup(app):
    async def tag_response(e):
        await e.next()
        e.response.set_header("X-Example", "handled")

    async def on_serve(e):
        Path(e.app.data_dir, "served-by-example.txt").write_text(e.address)
        await e.next()

    app.events.on("request", tag_response)
    app.events.on("serve", on_serve)
'''

EXAMPLE_TESTS = '''
import pytest


@pytest.fixture
def pbk_plugins():
    return ["example"]


async def test_greets_and_counts(pbk_client):
    first = await pbk_client.post("/api/example/hello/ada")
    second = await pbk_client.post("/api/example/hello/bob")
    assert first.json == {"hello": "ada", "count": 1}
    assert second.json == {"hello": "bob", "count": 2}
    assert second.headers["x-example"] == "handled"


async def test_refuses_bad_names_in_the_envelope(pbk_client):
    result = await pbk_client.post("/api/example/hello/r2d2")
    assert result.status_code == 400
    assert result.json["message"] == "Names are letters only."
    assert result.json["data"]["name"]["code"] == "validation_invalid_format"
'''


def write_package(root: Path, dist: str, module: str, source: str, entry_name: str) -> Path:
    package = root / dist
    (package / module).mkdir(parents=True)
    (package / module / "__init__.py").write_text(textwrap.dedent(source))
    (package / "pyproject.toml").write_text(
        textwrap.dedent(
            f"""
            [build-system]
            requires = ["hatchling"]
            build-backend = "hatchling.build"

            [project]
            name = "{dist}"
            version = "1.2.3"
            dependencies = ["pbk-plugin-sdk"]

            [project.entry-points."pbk.plugins"]
            {entry_name} = "{module}"

            [tool.hatch.build.targets.wheel]
            packages = ["{module}"]
            """
        )
    )
    return package


@pytest.fixture(scope="module")
def plugin_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("third-party")
    example = write_package(root, "pbk-example", "pbk_example", EXAMPLE_PLUGIN, "example")
    (example / "tests").mkdir()
    (example / "tests" / "test_example.py").write_text(EXAMPLE_TESTS)
    other = write_package(
        root, "pbk-other", "pbk_other",
        "from pbk_sdk import PluginInfo\nPLUGIN = PluginInfo(name='other')\n", "other",
    )
    broken = write_package(
        root, "pbk-broken", "pbk_broken", "raise RuntimeError('broken on purpose')\n", "broken"
    )
    build_wheels([example, other, broken], root / "wheels")
    python = layered_venv(root / "venv")
    install_wheels(python, root / "wheels", ["pbk-example", "pbk-other", "pbk-broken"])
    return {"python": python, "root": root, "example": example}


def pbk_in(env: dict[str, Path], *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [env["python"], "-m", "pbk", *args], check=False, cwd=cwd, capture_output=True, text=True, timeout=60
    )


def test_installed_plugins_are_discovered_through_their_entry_points(plugin_env, tmp_path):
    result = pbk_in(plugin_env, "plugins", "--json", "--plugins", "example", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    rows = {row["name"]: row for row in json.loads(result.stdout)}
    assert rows["example"]["distribution"] == "pbk-example"
    assert rows["example"]["version"] == "1.2.3"
    assert rows["example"]["loaded"] is True
    assert rows["example"]["hooks"] == ["pbk_register_migrations", "pbk_register_routes", "pbk_startup"]
    assert rows["other"]["loaded"] is False
    assert rows["broken"]["error"] == (
        "plugin 'broken' (pbk-broken 1.2.3) failed to import: RuntimeError: broken on purpose"
    )


def test_the_plugin_serves_its_route_migrates_and_handles_events(plugin_env, tmp_path):
    data = tmp_path / "pb_data"
    server = start_live_server(data, ["--plugins", "example"], python=str(plugin_env["python"]))
    try:
        result = httpx.post(f"{server.url}/api/example/hello/ada")
        assert result.status_code == 200
        assert result.json() == {"hello": "ada", "count": 1}
        assert result.headers["x-example"] == "handled"
        assert httpx.get(f"{server.url}/api/health").headers["x-example"] == "handled"
        bad = httpx.post(f"{server.url}/api/example/hello/r2d2")
        assert bad.status_code == 400
        assert bad.json()["data"] == {
            "name": {"code": "validation_invalid_format", "message": "Letters only."}
        }
        assert (data / "served-by-example.txt").read_text() == server.url.removeprefix("http://")
    finally:
        assert server.stop() == 0, server.output()


def test_selecting_other_plugins_unloads_it(plugin_env, tmp_path):
    server = start_live_server(tmp_path / "pb_data", ["--plugins", "other"], python=str(plugin_env["python"]))
    try:
        result = httpx.post(f"{server.url}/api/example/hello/ada")
        assert result.status_code == 404
        assert result.json() == {"data": {}, "message": "The requested resource wasn't found.", "status": 404}
        assert "x-example" not in httpx.get(f"{server.url}/api/health").headers
    finally:
        server.stop()


def test_loading_everything_names_the_broken_plugin_in_one_line(plugin_env, tmp_path):
    result = pbk_in(plugin_env, "serve", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "Error: plugin 'broken' (pbk-broken 1.2.3) failed to import: RuntimeError: broken on purpose"
    ]


def test_plugin_authors_test_with_the_sdk_fixtures(plugin_env):
    result = subprocess.run(
        [plugin_env["python"], "-m", "pytest", "-q", "-p", "no:cacheprovider",
         "-o", "asyncio_mode=auto", "tests"],
        check=False, cwd=plugin_env["example"], capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout

