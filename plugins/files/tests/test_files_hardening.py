"""Files under hostile input: decompression bombs, disguised images, odd ranges and names."""

from __future__ import annotations

import asyncio
import io
import threading
from typing import Any

import pytest
from files_testing import DOCS, create, png
from pbk_files import thumbs
from pbk_files.storage import LocalStorage


@pytest.fixture
async def docs(api: Any, tokens: Any) -> Any:
    made = await api.post("/api/collections", json=DOCS, headers={"Authorization": tokens["superuser"]})
    assert made.status_code == 200, made.text
    return made.json


def test_a_thumb_is_never_decoded_from_a_huge_image():
    from PIL import Image

    out = io.BytesIO()
    Image.new("L", (9000, 9000)).save(out, format="PNG")  # tiny on disk, 81M pixels decoded
    assert len(out.getvalue()) < 1_000_000
    with pytest.raises(ValueError, match="too large"):
        thumbs.make(out.getvalue(), "100x100")


@pytest.mark.parametrize("backend", ["local"])
async def test_a_tiff_named_png_gets_no_thumb(api: Any, docs: Any) -> None:
    disguised = png(fmt="TIFF")
    made = await create(api, [("one", ("photo.png", disguised, "image/png"))])  # no mime limit
    assert made.status_code == 200, made.text
    name = made.json["one"]
    served = await api.get(f"/api/files/docs/{made.json['id']}/{name}?thumb=100x100")
    assert served.status_code == 200 and served.content == disguised, "the original, not a thumb"


@pytest.mark.parametrize("backend", ["local"])
@pytest.mark.parametrize("header", ["bytes=+5-9", "bytes=1_0-20", "bytes=-+3"])
async def test_ranges_are_digits_only(api: Any, docs: Any, header: str) -> None:
    made = await create(api, [("files", ("a.txt", b"hello world, hello range", "text/plain"))])
    name = made.json["files"][0]
    served = await api.get(f"/api/files/docs/{made.json['id']}/{name}", headers={"Range": header})
    assert served.status_code == 416


@pytest.mark.parametrize("backend", ["local"])
async def test_an_attrs_extension_cannot_shadow_the_sidecar(api: Any, docs: Any) -> None:
    made = await create(api, [("files", ("a.attrs", b"plain text", "text/plain"))])
    assert made.status_code == 200, made.text
    name = made.json["files"][0]
    assert not name.endswith(".attrs")
    served = await api.get(f"/api/files/docs/{made.json['id']}/{name}")
    assert served.status_code == 200 and served.content == b"plain text"


@pytest.mark.parametrize("backend", ["local"])
async def test_a_record_deleted_and_created_again_in_one_batch_keeps_its_new_files(
    api: Any, app: Any, tokens: Any, docs: Any
) -> None:
    su = {"Authorization": tokens["superuser"]}
    first = await create(api, [("id", "samesameid12345"), ("files", ("old.txt", b"old", "text/plain"))])
    assert first.status_code == 200, first.text
    await app.settings.update({"batch": {"enabled": True}})
    from files_testing import multipart

    body, head = multipart([
        ("@jsonPayload", ('{"requests": [{"method": "DELETE", "url": "/api/collections/docs/records/samesameid12345"},'
                         ' {"method": "POST", "url": "/api/collections/docs/records", "body": {"id": "samesameid12345"}}]}')),
        ("requests.1.files", ("new.txt", b"new", "text/plain")),
    ])
    done = await api.post("/api/batch", body=body, headers={**head, **su})
    assert done.status_code == 200, done.text
    [new_name] = done.json[1]["body"]["files"]
    served = await api.get(f"/api/files/docs/samesameid12345/{new_name}")
    assert served.status_code == 200 and served.content == b"new"


@pytest.mark.parametrize("backend", ["local"])
async def test_an_endpoint_that_is_not_s3_is_never_echoed_back(app: Any) -> None:
    import http.server
    import threading

    from pbk_files.s3settings import connection_errors
    from pbk_sdk.testing import free_port

    class NotS3(http.server.BaseHTTPRequestHandler):
        def do_HEAD(self) -> None:
            self.send_response(403)
            self.end_headers()

        def do_GET(self) -> None:
            body = b"INTERNAL-METADATA-TOKEN-abc123"
            self.send_response(403)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    port = free_port()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), NotS3)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        errors = await connection_errors(app, {
            "enabled": True, "bucket": "bucket1", "region": "us-east-1", "endpoint": f"http://127.0.0.1:{port}",
            "accessKey": "k", "secret": "s", "forcePathStyle": True})
    finally:
        server.shutdown()
    assert errors, "not an S3 server: refused"
    assert all("INTERNAL-METADATA-TOKEN" not in error.message for error in errors.values())


class _Gate(io.BytesIO):
    """An upload's body whose first read waits until the other upload's has begun, so both
    writes are under way at once (each on its own thread, as ``save_file`` runs them)."""

    def __init__(self, data: bytes, gate: threading.Barrier) -> None:
        super().__init__(data)
        self._gate: threading.Barrier | None = gate

    def read(self, size: int | None = -1) -> bytes:
        if self._gate is not None:
            gate, self._gate = self._gate, None
            gate.wait(10)
        return super().read(size)


async def test_two_uploads_of_one_key_never_share_a_temp_file(tmp_path: Any) -> None:
    storage = LocalStorage(None, tmp_path / "store")  # type: ignore[arg-type]  # the root is given
    first, second = b"a" * 3_000_000, b"b" * 3_000_000
    gate = threading.Barrier(2)
    await asyncio.gather(*(storage.save_file("same.zip", _Gate(data, gate), len(data)) for data in (first, second)))
    assert (tmp_path / "store" / "same.zip").read_bytes() in (first, second)
    assert sorted(p.name for p in (tmp_path / "store").iterdir()) == ["same.zip", "same.zip.attrs"]
