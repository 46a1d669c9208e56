"""Files tests: records + auth + files on a temp data dir, each case on local disk and on S3
(moto's standalone server, started once per session on a free loopback port)."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import falcon.testing
import httpx
import pytest
import pytest_asyncio
from pbk_sdk.testing import free_port

SUPERUSER = ("root@example.com", "1234567890")
USERS = {"user": ("ada@example.com", "ada-password"), "user2": ("bob@example.com", "bob-password")}


@pytest.fixture
def pbk_plugins() -> list[str]:
    return ["records", "auth", "files"]


@pytest.fixture(autouse=True)
def cheap_bcrypt(monkeypatch: pytest.MonkeyPatch) -> None:
    """Test passwords need no real bcrypt cost (the tests would spend most time hashing)."""
    import pbk_auth.plugin

    monkeypatch.setattr(pbk_auth.plugin, "BCRYPT_COST", 4)


@pytest.fixture(scope="session")
def moto_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real S3-compatible server process (moto) on loopback; yields its endpoint URL."""
    port = free_port()
    log = tmp_path_factory.mktemp("moto") / "moto.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            env={**os.environ, "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"},
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
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
    return {
        "enabled": True, "bucket": bucket, "region": "us-east-1", "endpoint": endpoint,
        "accessKey": "test", "secret": "test", "forcePathStyle": True,
    }


def make_bucket(endpoint: str) -> str:
    from minio import Minio

    bucket = f"pbk-{uuid.uuid4().hex[:12]}"
    client = Minio(endpoint.split("://", 1)[1], access_key="test", secret_key="test", secure=False, region="us-east-1")
    client.make_bucket(bucket)
    return bucket


@pytest.fixture(params=["local", "s3"])
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest_asyncio.fixture
async def app(pbk_app: Any, backend: str, request: pytest.FixtureRequest) -> Any:
    """The started app, its storage switched to S3 by settings alone for the ``s3`` runs."""
    if backend == "s3":
        endpoint = request.getfixturevalue("moto_server")
        await pbk_app.settings.update({"s3": s3_settings(endpoint, make_bucket(endpoint))})
    return pbk_app


@pytest.fixture
def storage(app: Any) -> Any:
    from pbk_files.uploads import storage_for

    return storage_for(app)


@pytest.fixture
def store(app: Any) -> Any:
    return app.services.get("record_store", "sqlite")


@pytest_asyncio.fixture
async def api(app: Any) -> AsyncIterator[Any]:
    async with falcon.testing.ASGIConductor(app.asgi) as conductor:
        yield conductor


@pytest_asyncio.fixture
async def tokens(api: Any, store: Any) -> dict[str, str]:
    await store.create(store.collection("_superusers"), {"email": SUPERUSER[0], "password": SUPERUSER[1]})
    out = {}
    result = await api.post("/api/collections/_superusers/auth-with-password",
                            json={"identity": SUPERUSER[0], "password": SUPERUSER[1]})
    out["superuser"] = result.json["token"]
    for role, (email, password) in USERS.items():
        await store.create(store.collection("users"), {"email": email, "password": password, "name": role})
        result = await api.post("/api/collections/users/auth-with-password",
                                json={"identity": email, "password": password})
        out[role] = result.json["token"]
        out[role + "_id"] = result.json["record"]["id"]
    return out


def multipart(fields: list[tuple[str, Any]]) -> tuple[bytes, dict[str, str]]:
    """Encode ``(name, value)`` pairs; a value ``(filename, bytes[, content type])`` is a file part."""
    boundary = "pbk" + secrets.token_hex(8)
    out = bytearray()
    for name, value in fields:
        out += f"--{boundary}\r\n".encode()
        if isinstance(value, tuple):
            filename, data = value[0], value[1]
            ctype = value[2] if len(value) > 2 else "application/octet-stream"
            out += f'Content-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'.encode()
            out += f"Content-Type: {ctype}\r\n\r\n".encode() + data + b"\r\n"
        else:
            out += f'Content-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
            out += str(value).encode() + b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return bytes(out), {"Content-Type": f"multipart/form-data; boundary={boundary}"}


def png(width: int = 40, height: int = 20, color: tuple[int, int, int] = (255, 0, 0), fmt: str = "PNG") -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (width, height), color).save(out, format=fmt)
    return out.getvalue()
