"""``live_server`` on a chosen port (``pbk_live_port`` for the fixture, ``port=`` for the
factory) with the test app's ``pbk_config``."""

from __future__ import annotations

import socket
import textwrap
from pathlib import Path
from typing import Any

import httpx
import pytest
from pbk_sdk.testing import free_port

PING_PLUGIN = """
from pbk_sdk import Route, hookimpl

class Ping:
    async def on_get(self, req, resp):
        resp.media = {"pong": True}

@hookimpl
def pbk_register_routes(app):
    return [Route("/api/ping", Ping())]
"""


@pytest.fixture
def pbk_plugins() -> list[str]:
    return []


@pytest.fixture
def pbk_config(pbk_config: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    """The app also loads the ``ping`` plugin from a plugins dir."""
    plugins_dir = tmp_path / "plugins"
    plugins_dir.mkdir()
    (plugins_dir / "ping.py").write_text(textwrap.dedent(PING_PLUGIN))
    return {**pbk_config, "plugins_dir": plugins_dir}


@pytest.fixture
def pbk_live_port() -> int:
    # Picked when the test runs: one picked at collection could be taken by then.
    return free_port()


def test_live_server_listens_on_pbk_live_port(live_server, pbk_live_port):
    assert live_server.url == f"http://127.0.0.1:{pbk_live_port}"
    assert httpx.get(f"{live_server.url}/api/health").json()["message"] == "API is healthy."


def test_live_server_serves_the_app_pbk_config_describes(live_server, pbk_config):
    assert httpx.get(f"{live_server.url}/api/ping").json() == {"pong": True}
    assert (pbk_config["data_dir"] / "data.db").is_file()


def test_the_factory_serves_on_the_port_asked_for(live_server_factory):
    port = free_port()
    server = live_server_factory(["--plugins="], port=port)
    assert server.url == f"http://127.0.0.1:{port}"
    assert httpx.get(f"{server.url}/api/health").status_code == 200


def test_a_port_in_use_is_refused_before_starting(live_server_factory):
    with socket.socket() as other_server:
        other_server.bind(("127.0.0.1", 0))
        other_server.listen()
        port = other_server.getsockname()[1]
        with pytest.raises(RuntimeError, match=f"cannot serve on 127.0.0.1:{port}"):
            live_server_factory(["--plugins="], port=port)
