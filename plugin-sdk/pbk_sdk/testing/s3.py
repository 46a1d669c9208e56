"""A real S3-compatible server for tests: moto's standalone server, started once per session
on a free loopback port (``moto_server`` yields its endpoint URL), and helpers to point a
settings section (``s3``, ``backups.s3``) at a new bucket of it. Needs ``moto[server]`` and
``minio``, which the files plugin's tests install."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from .extra import require
from .servers import free_port

MOTO_STARTUP_TIMEOUT = 30.0


@pytest.fixture(scope="session")
def moto_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real S3-compatible server process (moto) on loopback; yields its endpoint URL."""
    httpx = require("httpx", "moto_server")
    port = free_port()
    log = tmp_path_factory.mktemp("moto") / "moto.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            env={**os.environ, "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"},
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + MOTO_STARTUP_TIMEOUT
    try:
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"moto exited:\n{log.read_text()}")
            try:
                httpx.get(url + "/moto-api/", timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"moto did not start:\n{log.read_text()}") from None
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def s3_settings(endpoint: str, bucket: str) -> dict[str, Any]:
    """A settings section (``s3`` or ``backups.s3``) for ``bucket`` on the moto server."""
    return {
        "enabled": True, "bucket": bucket, "region": "us-east-1", "endpoint": endpoint,
        "accessKey": "test", "secret": "test", "forcePathStyle": True,
    }


def make_bucket(endpoint: str) -> str:
    """A new, empty bucket on the moto server at ``endpoint``; its name."""
    minio = require("minio", "make_bucket")
    bucket = f"pbk-{uuid.uuid4().hex[:12]}"
    client = minio.Minio(endpoint.split("://", 1)[1], access_key="test", secret_key="test", secure=False,
                         region="us-east-1")
    client.make_bucket(bucket)
    return bucket
