"""The servers the OAuth2 flow tests share (``conftest.py`` makes them one session fixture:
starting them is the slow part): the real PocketBase and ``pbk serve`` side by side, and a real
OpenID Connect provider on loopback whose clients may send users back to either of them.

``follow(url)`` plays the browser: it follows the provider's redirects (keeping its cookies)
until the one back to the app, and returns that URL (with ``code`` and ``state``).
"""

from __future__ import annotations

import os
import shutil
import tomllib
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx
from oauth2_idp import Idp, start_idp
from pbk_sdk.oauth2 import ENTRY_POINT_GROUP as PROVIDER_GROUP
from pbk_sdk.testing import (
    Program,
    free_port,
    pocketbase_superuser,
    start_live_server,
    start_pocketbase,
    superuser_token,
)
from pbk_sdk.testing.programs import pbk_command_superuser

PLUGINS = ["records", "auth", "files", "realtime", "oauth2"]
#: The provider's clients: one with PKCE (``oidc``, and the named ``google``), one for the
#: ``id_token`` mode, one without PKCE (``oidc3``).
CLIENTS = {"oidc": ("pbk-client", "pbk-secret"), "oidc2": ("pbk-client-2", "pbk-secret-2"),
           "oidc3": ("no-pkce", "no-pkce-secret"), "google": ("pbk-client", "pbk-secret"),
           "acme": ("pbk-client", "pbk-secret")}
CALLBACK = "/callback"
#: The redirect's pages on a pbk without a dashboard, as PocketBase built without one answers.
SUCCESS_TEXT = "Auth completed. You can close this window and go back to the app."
FAILURE_TEXT = "Failed to authenticate. You can close this window and go back to the app to try again."
EMAIL, PASSWORD = "root@example.com", "1234567890"
ACME = Path(__file__).with_name("acme_provider")


@dataclass
class Servers:
    pocketbase: Program
    pbk: Program
    idp: Idp
    #: Where a test may start a pbk with several workers (the provider sends users back there).
    workers_url: str

    def providers(self, **overrides: Any) -> list[dict[str, Any]]:
        """Every test provider configured against the IdP (``overrides`` by provider name)."""
        url = self.idp.url
        configs = {
            "oidc": {"authURL": f"{url}/auth", "tokenURL": f"{url}/token", "userInfoURL": f"{url}/me"},
            "oidc2": {"authURL": f"{url}/auth", "tokenURL": f"{url}/token",
                      "extra": {"jwksURL": f"{url}/jwks", "issuers": [url]}},
            "oidc3": {"authURL": f"{url}/auth", "tokenURL": f"{url}/token",
                      "userInfoURL": f"{url}/me", "pkce": False},
            "google": {"authURL": f"{url}/auth", "tokenURL": f"{url}/token", "userInfoURL": f"{url}/me"},
            "acme": {"authURL": f"{url}/auth", "tokenURL": f"{url}/token", "userInfoURL": f"{url}/me"},
        }
        return [{"name": name, "clientId": CLIENTS[name][0], "clientSecret": CLIENTS[name][1],
                 **config, **overrides.get(name, {})} for name, config in configs.items()]

    def configure(self, program: Program, collection: str = "users", **oauth2: Any) -> None:
        """OAuth2 on for ``collection`` with every provider (the third-party ``acme`` on pbk
        only: PocketBase does not know it)."""
        providers = [p for p in self.providers() if p["name"] != "acme" or program.name == "pbk"]
        body = {"oauth2": {"enabled": True, "providers": providers, **oauth2}}
        status, answer = program.call("PATCH", f"/api/collections/{collection}", body)
        assert status == 200, answer


#: A plugin file for ``--pluginsDir``: a ``record_auth_with_oauth2_request`` handler that
#: names the records signed up with ``createData.name == "rename-me"`` after the provider.
HOOKS_PLUGIN = """
from pbk_sdk import PluginInfo, hookimpl

PLUGIN = PluginInfo(name="oauth2_hooks")


@hookimpl
def pbk_startup(app):
    async def rename(e):
        if e.is_new_record and e.create_data.get("name") == "rename-me":
            e.create_data["name"] = "signed up with " + e.provider_name
        await e.next()

    app.events.on("record_auth_with_oauth2_request", rename, collections=["users"])
"""

#: A plugin file for ``--pluginsDir``: says a dashboard is served at ``/_/``, as the PocketBase
#: binary bundles one, so the redirect sends browsers to its pages on both servers.
DASHBOARD_PLUGIN = """
from pbk_sdk import PluginInfo, hookimpl
from pbk_sdk.interfaces import DASHBOARD_PATH

PLUGIN = PluginInfo(name="test_dashboard")


@hookimpl
def pbk_startup(app):
    app.state[DASHBOARD_PATH] = "/_/"
"""


def third_party_site(base: Path) -> Path:
    """A folder to put on ``PYTHONPATH`` holding ``acme_provider`` as pip installs it: the
    package and a dist-info naming its entry point."""
    site = base / "site"
    shutil.copytree(ACME / "pbk_acme_oauth2", site / "pbk_acme_oauth2")
    dist_info = site / "pbk_acme_oauth2-0.1.0.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text("Metadata-Version: 2.1\nName: pbk-acme-oauth2\nVersion: 0.1.0\n")
    project = tomllib.loads((ACME / "pyproject.toml").read_text())["project"]
    lines = [f"{name} = {target}" for name, target in project["entry-points"][PROVIDER_GROUP].items()]
    (dist_info / "entry_points.txt").write_text(f"[{PROVIDER_GROUP}]\n" + "\n".join(lines) + "\n")
    return site


def start_program(name: str, data: Path, args: list[str] = (), *, env: dict[str, str] | None = None,
                  port: int | None = None) -> Program:
    """PocketBase (``name`` ``"pocketbase"``) or pbk (any other name; ``"pbk"`` is the one
    with the third-party provider) on ``data`` with the superuser, signed in."""
    if name == "pocketbase":
        pocketbase_superuser(data, EMAIL, PASSWORD)
        server = start_pocketbase(data)
    else:
        pbk_command_superuser(data, PLUGINS, EMAIL, PASSWORD)
        server = start_live_server(data, ["--plugins", ",".join(PLUGINS), *args], env=env, port=port)
    token = superuser_token(server.url, EMAIL, PASSWORD)
    client = httpx.Client(base_url=server.url, timeout=30, headers={"Authorization": token})
    return Program(name, server, token, client)


@contextmanager
def started_servers(base: Path) -> Iterator[Servers]:
    """PocketBase, pbk (with the hooks and dashboard plugins, the third-party provider) and the
    provider, each configured; all stopped afterwards."""
    (base / "hooks").mkdir()
    (base / "hooks" / "oauth2_hooks.py").write_text(HOOKS_PLUGIN)
    (base / "hooks" / "test_dashboard.py").write_text(DASHBOARD_PLUGIN)
    env = {"PYTHONPATH": os.pathsep.join([str(third_party_site(base)), os.environ.get("PYTHONPATH", "")])}
    with ExitStack() as stack:
        programs = []
        for name, data in (("pocketbase", base / "pb_real"), ("pbk", base / "pb_data")):
            program = start_program(name, data, ["--pluginsDir", str(base / "hooks")], env=env)
            stack.callback(program.server.stop)
            stack.callback(program.client.close)
            programs.append(program)
        pocketbase, pbk = programs
        workers_url = f"http://127.0.0.1:{free_port()}"  # for a pbk with two workers, started later
        redirects = [f"{url}{path}" for url in (pocketbase.url, pbk.url, workers_url)
                     for path in (CALLBACK, "/api/oauth2-redirect")]
        clients = [{"client_id": client_id, "client_secret": secret, "redirect_uris": redirects,
                    "grant_types": ["authorization_code", "refresh_token"],
                    "response_types": ["code"]} for client_id, secret in set(CLIENTS.values())]
        idp = start_idp(clients)
        stack.callback(idp.stop)
        servers = Servers(pocketbase, pbk, idp, workers_url)
        for program in programs:
            servers.configure(program)
        yield servers


def follow(url: str, stop_at: str) -> str:
    """Act as the user's browser on ``url`` (a fresh one: no session at the provider) until a
    redirect to a URL starting with ``stop_at``; that URL."""
    with httpx.Client(timeout=10) as browser:
        for _ in range(20):
            response = browser.get(url)
            location = response.headers.get("location")
            assert response.is_redirect and location, f"{url}: {response.status_code} {response.text[:300]}"
            url = urljoin(url, location)
            if url.startswith(stop_at):
                return url
    raise AssertionError("too many redirects")


def code_for(servers: Servers, program: Program, provider: str, account: str,
             **claims: Any) -> dict[str, str]:
    """Sign ``account`` in at the IdP through ``provider``'s auth-methods entry: the body of
    the ``auth-with-oauth2`` call that follows (provider, code, codeVerifier, redirectURL)."""
    servers.idp.sign_in_as(account, **claims)
    methods = program.client.get("/api/collections/users/auth-methods").json()
    entry = next(p for p in methods["oauth2"]["providers"] if p["name"] == provider)
    redirect = program.url + CALLBACK
    back = follow(entry["authURL"] + redirect, redirect)
    query = parse_qs(urlsplit(back).query)
    assert query["state"] == [entry["state"]]
    return {"provider": provider, "code": query["code"][0], "codeVerifier": entry["codeVerifier"],
            "redirectURL": redirect}
