"""``live_server`` on a chosen port: ``pbk_live_port`` for the fixture, ``port=`` for the
factory."""

from __future__ import annotations

import socket

import httpx
import pytest
from pbk_sdk.testing import free_port

CHOSEN_PORT = free_port()


@pytest.fixture
def pbk_plugins() -> list[str]:
    return []


@pytest.fixture
def pbk_live_port() -> int:
    return CHOSEN_PORT


def test_live_server_listens_on_pbk_live_port(live_server):
    assert live_server.url == f"http://127.0.0.1:{CHOSEN_PORT}"
    assert httpx.get(f"{live_server.url}/api/health").json()["message"] == "API is healthy."


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
