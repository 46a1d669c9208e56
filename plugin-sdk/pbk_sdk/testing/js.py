"""Drive a live server with the official PocketBase JS SDK under Node, from pytest.

The first use installs the pinned npm packages into a cache directory (``PBK_JS_CACHE``,
default ``~/.cache/pbk/js``) with the machine's npm; later runs reuse them. Scripts are ES
modules with ``pb`` (a ``PocketBase`` client for the server) and ``output(value)`` in scope.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import textwrap
from pathlib import Path
from typing import Any

import pytest

from .caches import filled_once

PACKAGES = {"pocketbase": "0.28.1", "eventsource": "5.1.5"}
INSTALL_TIMEOUT = 600

PRELUDE = """\
import PocketBase from "pocketbase";
import { EventSource } from "eventsource";
globalThis.EventSource = EventSource;
const pb = new PocketBase(process.env.PB_URL);
pb.autoCancellation(false);
let __output;
const output = (value) => { __output = value; };
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
try {
"""
EPILOGUE = """
  process.stdout.write(JSON.stringify({ ok: true, value: __output ?? null }));
  process.exit(0);
} catch (error) {
  process.stdout.write(JSON.stringify({ ok: false, error: {
    status: error?.status, message: String(error?.message ?? error),
    data: error?.response ?? null } }));
  process.exit(1);
}
"""


class JsError(AssertionError):
    """The script threw; ``status``/``response`` are the SDK's ClientResponseError fields."""

    def __init__(self, error: dict[str, Any], stderr: str) -> None:
        self.status = error.get("status")
        self.response = error.get("data")
        super().__init__(f"JS SDK error {self.status}: {error.get('message')}\n{stderr}")


class JsSdk:
    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def run(
        self, script: str, url: str, *, timeout: float = 60, env: dict[str, str] | None = None
    ) -> Any:
        """Run ``script`` against ``url``; returns what it passed to ``output()``."""
        source = PRELUDE + textwrap.indent(textwrap.dedent(script), "  ") + EPILOGUE
        with tempfile.NamedTemporaryFile(
            "w", suffix=".mjs", dir=self.directory, delete=False
        ) as handle:
            handle.write(source)
        path = Path(handle.name)
        try:
            done = subprocess.run(
                ["node", str(path)],
                cwd=self.directory,
                capture_output=True,
                text=True,
                timeout=timeout,
                env={**os.environ, "PB_URL": url, **(env or {})},
                check=False,  # a failing script reports its error on stdout, read below
            )
        finally:
            path.unlink(missing_ok=True)
        try:
            result = json.loads(done.stdout.strip().splitlines()[-1])
        except (IndexError, json.JSONDecodeError) as exc:
            raise AssertionError(f"node printed no result:\n{done.stdout}\n{done.stderr}") from exc
        if not result["ok"]:
            raise JsError(result["error"], done.stderr)
        return result["value"]


def install(directory: Path) -> Path:
    """Install ``PACKAGES`` into ``directory`` unless they are there already (one process
    installs, others asking at once wait for it: see ``caches``)."""

    def installed(folder: Path) -> bool:
        return all((folder / "node_modules" / name / "package.json").is_file() for name in PACKAGES)

    def npm_install(work: Path) -> None:
        if shutil.which("npm") is None or shutil.which("node") is None:
            raise RuntimeError("the JS SDK tests need node and npm on PATH")
        (work / "package.json").write_text(
            json.dumps({"name": "pbk-js-sdk-tests", "private": True, "type": "module",
                        "dependencies": PACKAGES})
        )
        subprocess.run(
            ["npm", "install", "--no-package-lock", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=work,
            check=True,
            capture_output=True,
            timeout=INSTALL_TIMEOUT,
        )

    return filled_once(directory, installed, npm_install)


@pytest.fixture(scope="session")
def js_sdk() -> JsSdk:
    """The PocketBase JS SDK, installed once per machine into the cache directory."""
    cache = Path(os.environ.get("PBK_JS_CACHE", Path.home() / ".cache" / "pbk" / "js"))
    version = "-".join(f"{name}{ver}" for name, ver in PACKAGES.items())
    return JsSdk(install(cache / version))
