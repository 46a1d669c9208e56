"""pb_public: every GET nothing else serves comes from the public dir, as in PocketBase 0.40.

A public dir with a few files, a secret beside it and symlinks pointing out of it; requests
go through the real app (``Config.public_dir``, ``Config.index_fallback``).
"""

from __future__ import annotations

import os
import random
import time
from email.utils import formatdate
from pathlib import Path
from typing import Any

import falcon.testing
import httpx
import pytest
from pbk_sdk.testing import client_for

INDEX = b"<!doctype html><title>app</title>\n"
SECRET = b"TOP SECRET, never served\n"
FILE_NOT_FOUND = {"data": {}, "message": "File not found.", "status": 404}
NOT_FOUND = {"data": {}, "message": "The requested resource wasn't found.", "status": 404}
SECURITY_HEADERS = {
    "X-Xss-Protection": "1; mode=block",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "SAMEORIGIN",
    "Cross-Origin-Opener-Policy": "same-origin",
}
MTIME = 1_700_000_000  # 2023-11-14 22:13:20 GMT
LAST_MODIFIED = "Tue, 14 Nov 2023 22:13:20 GMT"
BIG_SIZE = 256 * 1024 * 3 + 12_345  # several stream chunks plus a partial one


BIG = random.Random(40).randbytes(BIG_SIZE)


FILES = {
    "index.html": INDEX,
    "style.css": b"body { color: red }\n",
    "app.js": b"console.log('hi')\n",
    "data.json": b'{"a": 1}\n',
    "notes.txt": "caf\u00e9\n".encode(),
    "logo.png": b"\x89PNG\r\n\x1a\n0000",
    "archive.unknownext": b"\x00\x01\x02",
    "sub/index.html": b"<p>sub</p>\n",
    "sub/page.txt": b"sub page\n",
    "noindex/file.txt": b"no index here\n",
    "big.bin": b"",  # filled in by the fixture
}


@pytest.fixture
def public_dir(tmp_path: Path) -> Path:
    """``pb_public`` with FILES, a secret beside it and symlinks in and out of it."""
    public = tmp_path / "pb_public"
    for name, content in FILES.items():
        path = public / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(BIG if name == "big.bin" else content)
    for path in public.rglob("*"):
        if path.is_file():
            os.utime(path, (MTIME, MTIME))
    (tmp_path / "secret.txt").write_bytes(SECRET)
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "secret.txt").write_bytes(SECRET)
    (tmp_path / "outside" / "index.html").write_bytes(SECRET)
    (public / "linkdir").symlink_to(tmp_path / "outside", target_is_directory=True)
    (public / "linkfile.txt").symlink_to(tmp_path / "secret.txt")
    (public / "alias.css").symlink_to(public / "style.css")
    return public


@pytest.fixture
def pbk_config(pbk_config: dict[str, Any], public_dir: Path) -> dict[str, Any]:
    return {**pbk_config, "public_dir": public_dir}


def assert_security_headers(result: Any) -> None:
    for name, value in SECURITY_HEADERS.items():
        assert result.headers.get(name) == value, name
    assert result.headers["Vary"] == "Origin"


async def test_the_index_is_served_at_the_root(pbk_client):
    result = await pbk_client.simulate_get("/")

    assert result.status_code == 200
    assert result.content == INDEX
    assert result.headers["Content-Type"] == "text/html; charset=utf-8"
    assert result.headers["Content-Length"] == str(len(INDEX))
    assert result.headers["Last-Modified"] == LAST_MODIFIED
    assert_security_headers(result)


@pytest.mark.parametrize(
    ("path", "content_type", "content"),
    [
        ("/style.css", "text/css; charset=utf-8", FILES["style.css"]),
        ("/app.js", "text/javascript; charset=utf-8", FILES["app.js"]),
        ("/data.json", "application/json", FILES["data.json"]),
        ("/notes.txt", "text/plain; charset=utf-8", FILES["notes.txt"]),
        ("/logo.png", "image/png", FILES["logo.png"]),
        ("/archive.unknownext", "application/octet-stream", FILES["archive.unknownext"]),
        ("/sub/", "text/html; charset=utf-8", FILES["sub/index.html"]),
        ("/sub/page.txt", "text/plain; charset=utf-8", FILES["sub/page.txt"]),
        ("/sub%2fpage.txt", "text/plain; charset=utf-8", FILES["sub/page.txt"]),
        ("/alias.css", "text/css; charset=utf-8", FILES["style.css"]),
        ("/style.css?v=3", "text/css; charset=utf-8", FILES["style.css"]),
    ],
)
async def test_a_file_is_served_with_its_content_type_and_last_modified(
    pbk_client, path, content_type, content
):
    result = await pbk_client.simulate_get(path)

    assert result.status_code == 200
    assert result.content == content
    assert result.headers["Content-Type"] == content_type
    assert result.headers["Content-Length"] == str(len(content))
    assert result.headers["Last-Modified"] == LAST_MODIFIED
    assert_security_headers(result)


@pytest.mark.parametrize(
    "path",
    [
        "/missing",
        "/missing/deep/path",
        "/missing.css",
        "/missing/index.html",
        "/noindex/",
        "/sub/missing.txt",
        "/api/nope",
        "/api/health/",
        "/%00",
        "/" + "a" * 300,
        "/" + "/".join(["d"] * 200),
    ],
)
async def test_a_missing_path_falls_back_to_the_index(pbk_client, path):
    result = await pbk_client.simulate_get(path)

    assert result.status_code == 200
    assert result.content == INDEX
    assert result.headers["Content-Type"] == "text/html; charset=utf-8"
    assert_security_headers(result)


@pytest.mark.parametrize("path", ["/missing", "/missing.css", "/noindex/", "/api/nope", "/%00"])
async def test_without_index_fallback_a_missing_path_is_file_not_found(pbk_config, path):
    async with client_for({**pbk_config, "index_fallback": False}) as client:
        result = await client.simulate_get(path)
        head = await client.simulate_head(path)

    assert result.status_code == 404
    assert result.json == FILE_NOT_FOUND
    assert_security_headers(result)
    assert (head.status_code, head.content) == (404, b"")


async def test_without_index_fallback_existing_files_are_still_served(pbk_config):
    async with client_for({**pbk_config, "index_fallback": False}) as client:
        root = await client.simulate_get("/")
        page = await client.simulate_get("/sub/page.txt")

    assert (root.status_code, root.content) == (200, INDEX)
    assert (page.status_code, page.content) == (200, FILES["sub/page.txt"])


@pytest.mark.parametrize("index_fallback", [True, False])
@pytest.mark.parametrize("path", ["/", "/index.html", "/anything", "/sub/page.txt"])
async def test_without_a_public_dir_every_get_is_file_not_found(
    pbk_config, tmp_path, index_fallback, path
):
    config = {**pbk_config, "public_dir": tmp_path / "absent", "index_fallback": index_fallback}
    async with client_for(config) as client:
        result = await client.simulate_get(path)

    assert result.status_code == 404
    assert result.json == FILE_NOT_FOUND
    assert_security_headers(result)


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
@pytest.mark.parametrize("path", ["/", "/style.css", "/missing"])
async def test_other_methods_on_public_paths_are_not_found(pbk_client, method, path):
    result = await pbk_client.simulate_request(method, path)

    assert result.status_code == 404
    assert result.json == NOT_FOUND


@pytest.mark.parametrize(
    ("path", "query", "status", "location"),
    [
        # PocketBase's canonical URLs (apis.Static): 301, the query is dropped.
        ("/index.html", "", 301, "/"),
        ("/index.html", "x=1", 301, "/"),
        ("/sub/index.html", "", 301, "/sub/"),
        ("/sub", "", 301, "/sub/"),
        ("/sub", "x=1", 301, "/sub/"),
        ("/noindex", "", 301, "/noindex/"),
        ("/style.css/", "", 301, "/style.css"),
        # Go's ServeMux cleans the path first: 307, the query is kept.
        ("/./style.css", "v=2", 307, "/style.css?v=2"),
        ("/sub/../style.css", "", 307, "/style.css"),
        ("//style.css", "", 307, "/style.css"),
        ("///evil.test/x", "", 307, "/evil.test/x"),
        ("/..", "", 307, "/"),
        ("/../", "", 307, "/"),
        ("/sub//page.txt", "", 307, "/sub/page.txt"),
    ],
)
async def test_non_canonical_paths_are_redirected(pbk_client, path, query, status, location):
    result = await pbk_client.simulate_get(path, query_string=query or None)

    assert result.status_code == status
    assert result.headers["Location"] == location
    assert result.content == b""
    assert_security_headers(result)


async def follow(client: falcon.testing.ASGIConductor, path: str) -> Any:
    """GET ``path``, following up to five same-site redirects."""
    for _ in range(5):
        result = await client.simulate_get(path)
        if result.status_code not in (301, 307):
            return result
        path = result.headers["Location"]
        assert path.startswith("/") and not path.startswith("//")
    raise AssertionError(f"redirect loop at {path}")


TRAVERSALS = [
    "/../secret.txt",
    "/%2e%2e/secret.txt",
    "/%2E%2E/secret.txt",
    "/..%2fsecret.txt",
    "/%2e%2e%2fsecret.txt",
    "/a/../../secret.txt",
    "/sub/../../secret.txt",
    "/sub/..%2f..%2fsecret.txt",
    "/%2e%2e/%2e%2e/%2e%2e/secret.txt",
    "/../outside/secret.txt",
    "/..%5csecret.txt",
    "/linkdir/secret.txt",
    "/linkdir/",
    "/linkdir",
    "/linkfile.txt",
]


@pytest.mark.parametrize("index_fallback", [True, False])
async def test_nothing_outside_the_public_dir_is_ever_served(pbk_config, index_fallback):
    async with client_for({**pbk_config, "index_fallback": index_fallback}) as client:
        answers = {path: await follow(client, path) for path in TRAVERSALS}

    not_found = b'{"data":{},"message":"File not found.","status":404}'
    expected = (200, INDEX) if index_fallback else (404, not_found)
    assert {path: (r.status_code, r.content) for path, r in answers.items()} == dict.fromkeys(
        TRAVERSALS, expected
    )


async def test_head_gives_the_headers_of_get_without_a_body(pbk_client):
    get = await pbk_client.simulate_get("/style.css")
    head = await pbk_client.simulate_head("/style.css")

    assert head.status_code == 200
    assert head.content == b""
    for name in ("Content-Type", "Content-Length", "Last-Modified", *SECURITY_HEADERS):
        assert head.headers[name] == get.headers[name], name
    assert head.headers["Content-Length"] == str(len(FILES["style.css"]))


async def test_head_on_a_large_file_gives_its_length_without_a_body(pbk_client):
    result = await pbk_client.simulate_head("/big.bin")

    assert result.status_code == 200
    assert result.content == b""
    assert result.headers["Content-Length"] == str(BIG_SIZE)


@pytest.mark.parametrize(
    ("since", "status"),
    [
        (LAST_MODIFIED, 304),
        (formatdate(MTIME + 3600, usegmt=True), 304),
        (formatdate(MTIME - 1, usegmt=True), 200),
        ("not a date", 200),
        ("", 200),
    ],
)
@pytest.mark.parametrize("path", ["/style.css", "/", "/big.bin"])
async def test_if_modified_since_answers_304_when_the_file_is_not_newer(
    pbk_client, path, since, status
):
    result = await pbk_client.simulate_get(path, headers={"If-Modified-Since": since})

    assert result.status_code == status
    assert result.headers["Last-Modified"] == LAST_MODIFIED
    assert_security_headers(result)
    if status == 304:
        assert result.content == b""
        assert "Content-Type" not in result.headers
    else:
        assert len(result.content) == int(result.headers["Content-Length"]) > 0


async def test_a_file_larger_than_one_chunk_streams_every_byte(pbk_client):
    result = await pbk_client.simulate_get("/big.bin")

    assert result.status_code == 200
    assert result.headers["Content-Length"] == str(BIG_SIZE)
    assert result.headers["Content-Type"] == "application/octet-stream"
    assert result.content == BIG


async def test_a_large_file_streams_correctly_under_uvicorn(live_server_factory, public_dir):
    server = live_server_factory(["--plugins", "", "--publicDir", str(public_dir)])
    async with (
        httpx.AsyncClient(base_url=server.url) as client,
        client.stream("GET", "/big.bin") as response,
    ):
        received = [chunk async for chunk in response.aiter_raw()]

    assert response.status_code == 200
    assert response.headers["Content-Length"] == str(BIG_SIZE)
    assert response.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert b"".join(received) == BIG


async def test_a_file_changed_on_disk_is_served_fresh(pbk_client, public_dir):
    first = await pbk_client.simulate_get("/notes.txt")
    (public_dir / "notes.txt").write_bytes(b"changed\n")
    later = time.time() + 10
    os.utime(public_dir / "notes.txt", (later, later))
    second = await pbk_client.simulate_get("/notes.txt")

    assert first.content == FILES["notes.txt"]
    assert second.content == b"changed\n"
    assert second.headers["Last-Modified"] == formatdate(int(later), usegmt=True)


async def test_a_static_answer_to_a_cross_origin_get_carries_allow_origin(pbk_client):
    result = await pbk_client.simulate_get("/style.css", headers={"Origin": "http://x.test"})

    assert result.status_code == 200
    assert result.headers["Access-Control-Allow-Origin"] == "*"
    assert_security_headers(result)


# --------------------------------------------------------------------------- the real PocketBase


STATIC_REQUESTS = [
    ("GET", "/", {}),
    ("GET", "/index.html", {}),
    ("GET", "/index.html?x=1", {}),
    ("GET", "/sub", {}),
    ("GET", "/sub/", {}),
    ("GET", "/sub/index.html", {}),
    ("GET", "/noindex", {}),
    ("GET", "/noindex/", {}),
    ("GET", "/noindex/index.html", {}),
    ("GET", "/style.css", {}),
    ("GET", "/style.css/", {}),
    ("GET", "/style.css?v=1", {"Origin": "http://app.test"}),
    ("HEAD", "/style.css", {}),
    ("GET", "/style.css", {"If-Modified-Since": LAST_MODIFIED}),
    ("GET", "/app.js", {}),
    ("GET", "/data.json", {}),
    ("GET", "/notes.txt", {}),
    ("GET", "/logo.png", {}),
    ("GET", "/big.bin", {}),
    ("GET", "/missing", {}),
    ("GET", "/missing/index.html", {}),
    ("GET", "/sub/missing.txt", {}),
    ("GET", "/api/nope", {}),
    ("GET", "/sub%2fpage.txt", {}),
    ("GET", "/./style.css?v=1", {}),
    ("GET", "//style.css", {}),
    ("GET", "/sub/../style.css", {}),
    ("GET", "/a/../../secret.txt", {}),
]


def static_answer(
    client: httpx.Client, method: str, path: str, headers: dict[str, str]
) -> dict[str, Any]:
    # The raw path goes out untouched (httpx would resolve the dot segments itself).
    request = client.build_request(method, "/", headers=headers)
    request.url = request.url.copy_with(raw_path=path.encode())
    response = client.send(request)
    answer: dict[str, Any] = {
        "status": response.status_code,
        "location": response.headers.get("Location"),
    }
    if response.status_code == 307:
        # Go's ServeMux cleans the path before any middleware: a little HTML body and no
        # security headers there; pbk's redirect has the headers and no body.
        return answer
    return answer | {
        "origin": response.headers.get("Access-Control-Allow-Origin"),
        "frame": response.headers.get("X-Frame-Options"),
        # falcon types every bodiless 301 as JSON; Go leaves it untyped.
        "type": response.headers.get("Content-Type") if response.status_code != 301 else None,
        "length": response.headers.get("Content-Length"),
        "modified": response.headers.get("Last-Modified"),
        "body": response.content,
    }


@pytest.mark.slow
def test_pbk_serves_pb_public_as_the_real_pocketbase_binary(
    public_dir, pocketbase_factory, live_server_factory
):
    pocketbase = pocketbase_factory(["--publicDir", str(public_dir)])
    ours = live_server_factory(["--plugins", "", "--publicDir", str(public_dir)])
    with httpx.Client(base_url=pocketbase.url) as real, httpx.Client(base_url=ours.url) as pbk_:
        for method, path, headers in STATIC_REQUESTS:
            expected = static_answer(real, method, path, headers)
            actual = static_answer(pbk_, method, path, headers)
            assert actual == expected, f"{method} {path} {headers}"
