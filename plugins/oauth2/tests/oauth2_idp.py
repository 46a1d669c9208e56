"""A real OpenID Connect provider for the tests: npm's `oidc-provider` run by ``oauth2_idp.mjs``
under Node on a loopback port.

The package is installed once per machine into the JS cache (``PBK_JS_CACHE``, default
``~/.cache/pbk/js``), as the JS SDK tests cache theirs; an exclusive lock on a file beside it
makes a second test process wait for the first one's install instead of racing it, and the
install lands in a temporary folder renamed into place, so a half-done one is never used.
"""

from __future__ import annotations

import fcntl
import json
import os
import select
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import httpx
from pbk_sdk.testing import free_port

PACKAGES = {"oidc-provider": "9.13.3"}
SCRIPT = Path(__file__).with_name("oauth2_idp.mjs")
INSTALL_TIMEOUT = 600
START_TIMEOUT = 30


def cache_root() -> Path:
    return Path(os.environ.get("PBK_JS_CACHE", Path.home() / ".cache" / "pbk" / "js"))


def installed_packages() -> Path:
    """The folder holding ``node_modules`` with ``PACKAGES``, installed under a lock."""
    root = cache_root()
    root.mkdir(parents=True, exist_ok=True)
    name = "-".join(f"{package}{version}" for package, version in PACKAGES.items())
    target = root / name
    with open(root / f".{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not all((target / "node_modules" / p / "package.json").is_file() for p in PACKAGES):
            if shutil.which("npm") is None or shutil.which("node") is None:
                raise RuntimeError("the OAuth2 tests need node and npm on PATH")
            staging = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=root))
            (staging / "package.json").write_text(json.dumps(
                {"name": "pbk-oauth2-idp", "private": True, "type": "module",
                 "dependencies": PACKAGES}))
            subprocess.run(["npm", "install", "--no-package-lock", "--no-audit", "--no-fund",
                            "--loglevel=error"], cwd=staging, check=True, capture_output=True,
                           timeout=INSTALL_TIMEOUT)
            shutil.rmtree(target, ignore_errors=True)
            staging.rename(target)
    return target


@dataclass
class Idp:
    """A running provider: ``url`` is its issuer; ``sign_in_as`` picks the next login."""

    url: str
    process: subprocess.Popen[str]
    log: IO[str]

    def sign_in_as(self, account_id: str, **claims: Any) -> None:
        """The next login (in a browser without a session) is ``account_id`` with ``claims``
        (``email``, ``email_verified``, ``name``, ``preferred_username``, ``picture``)."""
        httpx.post(f"{self.url}/test/account", json={"id": account_id, "claims": claims},
                   timeout=10).raise_for_status()

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()
        self.log.close()


def start_idp(clients: list[dict[str, Any]]) -> Idp:
    """Start the provider with ``clients`` (oidc-provider's client metadata)."""
    folder = installed_packages()
    script = folder / f"oauth2_idp_{os.getpid()}.mjs"  # beside node_modules, so its import resolves
    script.write_text(SCRIPT.read_text())
    port = free_port()
    log = tempfile.TemporaryFile("w+")  # noqa: SIM115 - closed by stop(); a pipe nobody reads could fill and block node
    process = subprocess.Popen(
        ["node", str(script)], cwd=folder, text=True, stdout=subprocess.PIPE, stderr=log,
        env={**os.environ, "IDP_PORT": str(port), "IDP_CLIENTS": json.dumps(clients)})
    assert process.stdout is not None
    ready, _, _ = select.select([process.stdout], [], [], START_TIMEOUT)
    if not ready or process.stdout.readline().strip() != "ready":  # "" when it died
        process.kill()
        log.seek(0)
        raise RuntimeError(f"the OpenID Connect provider did not start:\n{log.read()}")
    return Idp(f"http://127.0.0.1:{port}", process, log)
