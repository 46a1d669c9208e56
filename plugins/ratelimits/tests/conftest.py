"""Rate limit tests: the real PocketBase and a two-worker pbk, each new with the same superuser,
both trusting ``X-Real-IP`` so that a test picks the client IP each request is counted by."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import count
from pathlib import Path
from typing import Any

import httpx
import pytest
from pbk_sdk.testing import pocketbase_superuser, start_pocketbase, superuser_token
from pbk_sdk.testing.postgres import database_for, engine_under_test
from pbk_sdk.testing.servers import LiveServer, start_live_server

PLUGINS = "records,auth,settings,ratelimits"
EMAIL, PASSWORD = "root@example.com", "1234567890"
TRUST_REAL_IP = {"trustedProxy": {"headers": ["X-Real-IP"], "useLeftmostIP": False}}


@dataclass
class Program:
    """A running PocketBase or pbk, with its superuser's token."""

    name: str
    server: LiveServer
    token: str
    _ips: Any = field(default_factory=lambda: count(1))
    #: No kept-alive connections: each request picks a worker anew.
    _client: httpx.Client = field(
        default_factory=lambda: httpx.Client(timeout=30, limits=httpx.Limits(max_keepalive_connections=0)))

    def fresh_ip(self) -> str:
        """A client IP no earlier request used (counters are per IP)."""
        n = next(self._ips)
        return f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}"

    def request(self, method: str, path: str, *, ip: str, token: str = "", json: Any = None) -> httpx.Response:
        """One request from ``ip`` (as the trusted ``X-Real-IP`` says)."""
        headers = {"X-Real-IP": ip, **({"Authorization": token} if token else {})}
        return self.raw(method, path, headers=headers, json=json)

    def raw(self, method: str, path: str, *, headers: dict[str, str], json: Any = None) -> httpx.Response:
        """One request on a new connection, so that any worker may take it."""
        return self._client.request(method, self.server.url + path, headers=headers, json=json)

    def settings(self, patch: dict[str, Any], *, ip: str = "127.0.0.1") -> None:
        response = self.request("PATCH", "/api/settings", ip=ip, token=self.token, json=patch)
        assert response.status_code == 200, response.text


def start_pbk(data_dir: Path, workers: int, args: tuple[str, ...] = ()) -> LiveServer:
    """A new pbk data dir with the test superuser, served by ``workers`` workers."""
    done = subprocess.run([sys.executable, "-m", "pbk", "--plugins", PLUGINS, "--dir", str(data_dir),
                           *(["--db", database_for(data_dir)] if engine_under_test() == "postgresql" else []),
                           "superuser", "upsert", EMAIL, PASSWORD],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return start_live_server(data_dir, ["--plugins", PLUGINS, "--workers", str(workers), *args])


@pytest.fixture(scope="module")
def programs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[Program]]:
    """PocketBase 0.40.6 and pbk with two workers, both trusting ``X-Real-IP``."""
    base = tmp_path_factory.mktemp("ratelimits")
    pocketbase_superuser(base / "pb_real", EMAIL, PASSWORD)
    servers = [("pocketbase", start_pocketbase(base / "pb_real")), ("pbk", start_pbk(base / "pb_data", 2))]
    found: list[Program] = []
    try:
        found += [Program(name, server, superuser_token(server.url, EMAIL, PASSWORD)) for name, server in servers]
        for program in found:
            program.settings(TRUST_REAL_IP)
        yield found
    finally:
        for _, server in servers:
            server.stop()
        for program in found:
            program._client.close()


@pytest.fixture(scope="module")
def user_tokens(programs: list[Program]) -> dict[str, str]:
    """A regular user's auth token on each program, by program name."""
    tokens = {}
    user = {"email": "ada@example.com", "password": PASSWORD, "passwordConfirm": PASSWORD}
    for program in programs:
        created = program.request("POST", "/api/collections/users/records", ip="127.0.0.1",
                                  token=program.token, json=user)
        assert created.status_code == 200, created.text
        signed_in = program.request("POST", "/api/collections/users/auth-with-password", ip="127.0.0.1",
                                    json={"identity": user["email"], "password": PASSWORD})
        assert signed_in.status_code == 200, signed_in.text
        tokens[program.name] = signed_in.json()["token"]
    return tokens
