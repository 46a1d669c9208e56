"""``/api/backups`` beside the real PocketBase 0.40.6: the same requests, the same answers, and
backups that cross over (PocketBase's restored by pbk, pbk's restored by PocketBase).

pbk serves one process here, so its restore re-executes itself as PocketBase does; the
two-worker restart is ``test_backups_workers``' subject.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import httpx
import pytest
from backups_testing import NOTES, PLUGINS, add_notes, sign_in, titles, wait_for
from pbk_sdk.testing import Program, pocketbase_and_pbk
from pbk_sdk.testing.postgres import engine_under_test
from pbk_sdk.testing.programs import SUPERUSER_EMAIL, SUPERUSER_PASSWORD

pytestmark = pytest.mark.skipif(engine_under_test() == "postgresql", reason="no backups with the data in PostgreSQL (test_backups_postgres)")

DEFAULT_NAME = re.compile(r"^pb_backup_acme_\d{14}\.zip$")
MODIFIED = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}Z$")
ZIP_HEAD = b"PK\x03\x04"


def answer(response: httpx.Response) -> tuple[int, object]:
    return response.status_code, response.json() if response.content else None


def file_token(program: Program) -> str:
    return str(program.client.post("/api/files/token").json()["token"])


def probe(program: Program, zip_bytes: bytes) -> dict[str, tuple[int, object]]:
    """The answers compared: every refusal of every route, and the successes' shapes."""
    client, url = program.client, program.url
    token = file_token(program)
    out = {
        "create": answer(client.post("/api/backups", json={"name": "first.zip"})),
        "create-existing": answer(client.post("/api/backups", json={"name": "first.zip"})),
        "create-bad-name": answer(client.post("/api/backups", json={"name": "First.zip"})),
        "create-long-name": answer(client.post("/api/backups", json={"name": "x" * 151 + ".zip"})),
        "create-not-text": answer(client.post("/api/backups", json={"name": 5})),
        "create-bad-json": answer(client.post("/api/backups", content=b"{",
                                              headers={"content-type": "application/json"})),
        "upload-no-file": answer(client.post("/api/backups/upload", files={"other": ("a.zip", zip_bytes)})),
        "upload-existing": answer(client.post("/api/backups/upload", files={"file": ("first.zip", zip_bytes)})),
        "upload": answer(client.post("/api/backups/upload", files={"file": ("../second.zip", zip_bytes)})),
        "guest-list": answer(httpx.get(f"{url}/api/backups")),
        "download-no-token": answer(httpx.get(f"{url}/api/backups/first.zip")),
        "download-bad-token": answer(httpx.get(f"{url}/api/backups/first.zip", params={"token": "x.y.z"})),
        "download-auth-token": answer(httpx.get(f"{url}/api/backups/first.zip",
                                                params={"token": client.headers["Authorization"]})),
        "download-missing": answer(httpx.get(f"{url}/api/backups/missing.zip", params={"token": token})),
        "restore-missing": answer(client.post("/api/backups/missing.zip/restore")),
        "delete": answer(client.delete("/api/backups/second.zip")),
        "download-key-upload": answer(httpx.get(f"{url}/api/backups/upload", params={"token": token})),
        "restore-key-upload": answer(client.post("/api/backups/upload/restore")),
        "create-empty-name": answer(client.post("/api/backups", json={"name": ""})),
        "create-form": answer(client.post("/api/backups", data={"name": "form.zip"})),
        "create-name-newline": answer(client.post("/api/backups", json={"name": "a.zip\n"})),
        "upload-attrs": answer(client.post("/api/backups/upload", files={"file": ("x.zip.attrs", zip_bytes)})),
        "download-attrs": answer(httpx.get(f"{url}/api/backups/first.zip.attrs", params={"token": token})),
        "delete-attrs": answer(client.delete("/api/backups/first.zip.attrs")),
        "upload-backslash": answer(client.post("/api/backups/upload", files={"file": ("a\\b.zip", zip_bytes)})),
    }
    not_zip = client.post("/api/backups/upload", files={"file": ("third.zip", b"plain text")})
    out["upload-not-zip"] = (not_zip.status_code, not_zip.json()["data"]["file"]["code"])
    for key in ("missing.zip", "upload"):
        missing = client.delete(f"/api/backups/{key}")
        out[f"delete-{key}"] = (missing.status_code, missing.json()["message"].split("\n")[0])
    listed = client.get("/api/backups").json()
    out["list"] = (len(listed), sorted(listed[0]), bool(MODIFIED.match(listed[0]["modified"])))
    out["names"] = [DEFAULT_NAME.sub("<default>", item["key"]) for item in listed]
    download = httpx.get(f"{url}/api/backups/first.zip", params={"token": token})
    out["download"] = (download.status_code, download.headers["content-type"],
                       download.headers["content-disposition"], download.content[:4] == ZIP_HEAD,
                       len(download.content) == listed[0]["size"])
    ranged = httpx.get(f"{url}/api/backups/first.zip", params={"token": token}, headers={"Range": "bytes=0-3"})
    out["download-range"] = (ranged.status_code, ranged.content, ranged.headers["content-range"].startswith("bytes 0-3/"),
                             ranged.headers["accept-ranges"])
    return out


@pytest.mark.slow
def test_backups_api_answers_as_pocketbase(tmp_path: Path) -> None:
    zip_bytes = _any_zip(tmp_path)
    with pocketbase_and_pbk(tmp_path, PLUGINS, ["--workers", "1"]) as (real, ours):
        expected, got = probe(real, zip_bytes), probe(ours, zip_bytes)
    assert got == expected
    assert got["list"] == (4, ["key", "modified", "size"], True)
    assert got["names"] == ["a\\b.zip", "first.zip", "form.zip", "<default>"]


def _any_zip(tmp_path: Path) -> bytes:
    import zipfile

    path = tmp_path / "any.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("hello.txt", "hello")
    return path.read_bytes()


@pytest.mark.slow
def test_backups_cross_over_between_pocketbase_and_pbk(tmp_path: Path) -> None:
    """Each program backs up its notes; the other restores that backup and serves them."""
    with pocketbase_and_pbk(tmp_path, PLUGINS, ["--workers", "1"]) as programs:
        zips = {}
        for program in programs:
            assert program.client.post("/api/collections", json=NOTES).status_code == 200
            add_notes(program.client, f"written by {program.name}")
            assert program.client.post("/api/backups", json={"name": "mine.zip"}).status_code == 204
            zips[program.name] = httpx.get(f"{program.url}/api/backups/mine.zip",
                                           params={"token": file_token(program)}).content
        real, ours = programs
        # PocketBase wrote its notes collection as a JS migration (automigrate) beside its data:
        # restarted on pbk's data, it would apply it again and stop on the existing collection.
        shutil.rmtree(tmp_path / "pb_migrations")
        for program, other in ((real, ours), (ours, real)):
            upload = program.client.post("/api/backups/upload", files={"file": ("theirs.zip", zips[other.name])})
            assert upload.status_code == 204, upload.text
            assert program.client.post("/api/backups/theirs.zip/restore").status_code == 204
        for program, other in ((real, ours), (ours, real)):
            expected = [f"written by {other.name}"]
            wait_for(lambda p=program, e=expected: titles(p.url) == e, 60, f"{program.name} serving the restore")
            with sign_in(program.url, SUPERUSER_EMAIL, SUPERUSER_PASSWORD) as client:
                keys = [item["key"] for item in client.get("/api/backups").json()]
            assert keys == ["mine.zip", "theirs.zip"]  # the backups folder is kept through a restore
