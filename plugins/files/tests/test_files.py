"""Uploads, validation, serving, ranges, thumbs and protected files: every case runs on local
disk and on a real S3-compatible server (see conftest's ``backend``)."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from files_testing import DOCS, SECRETS, create, png, read, stored, update
from PIL import Image

TEXT = b"hello world"
NAME = re.compile(r"^[a-z0-9_]+_[a-z0-9]{10}(\.[\w.]+)?$")

@pytest.fixture
async def docs(api: Any, tokens: dict[str, str]) -> dict[str, Any]:
    result = await api.post("/api/collections", json=DOCS, headers={"Authorization": tokens["superuser"]})
    assert result.status_code == 200, result.json
    return result.json


async def test_create_stores_files_with_pocketbase_names(api: Any, docs: Any, storage: Any) -> None:
    result = await create(api, [("title", "x"), ("files", ("note 2 (copy).txt", TEXT)), ("files", ("img.png", png()))])
    assert result.status_code == 200, result.json
    record = result.json
    text_name, image_name = record["files"]
    assert text_name.startswith("note_2_copy_") and text_name.endswith(".txt")
    assert NAME.match(text_name) and NAME.match(image_name)
    assert await stored(storage, record) == {text_name, image_name}
    assert await read(storage, f"{record['collectionId']}/{record['id']}/{text_name}") == TEXT
    info = await storage.stat(f"{record['collectionId']}/{record['id']}/{image_name}")
    assert info.content_type == "image/png"


@pytest.mark.parametrize(
    ("client_name", "pattern"),
    [
        ("note 2 (copy).txt", r"note_2_copy_[a-z0-9]{10}\.txt"),
        ("a/../../b c.png", r"b_c_[a-z0-9]{10}\.png"),
        ("Ünïcode Fïlé.PNG", r"n_code_f_l_[a-z0-9]{10}\.PNG"),
        ("myFile.tar.gz", r"my_file_[a-z0-9]{10}\.tar\.gz"),
        ("x.txt", r"x[a-z0-9]{10}_[a-z0-9]{10}\.txt"),
        ("noext", r"noext_[a-z0-9]{10}\.png"),
    ],
)
async def test_stored_names(api: Any, docs: Any, client_name: str, pattern: str) -> None:
    result = await create(api, [("one", (client_name, png()))])
    assert result.status_code == 200, result.json
    assert re.fullmatch(pattern, result.json["one"]), result.json["one"]


CASES = [
    ("too big", [("files", ("big.txt", b"a" * 1001))], "files", "validation_file_size_limit",
     {"file": "big.txt", "maxSize": 1000}),
    ("bad mime", [("files", ("x.bin", bytes(range(256))))], "files", "validation_invalid_mime_type", None),
    ("too many", [("files", (f"f{i}.txt", TEXT)) for i in range(4)], "files", "validation_too_many_files",
     {"maxSelect": 3}),
    ("unknown kept name", [("files", "nope.txt")], "files", "validation_invalid_file", {"invalidFiles": ["nope.txt"]}),
    ("default 5 MiB", [("one", ("big.txt", b"a" * (5 * 1024 * 1024 + 1)))], "one", "validation_file_size_limit",
     {"file": "big.txt", "maxSize": 5242880}),
]


@pytest.mark.parametrize(("label", "fields", "field", "code", "params"), CASES, ids=[c[0] for c in CASES])
async def test_validation_errors(
    api: Any, docs: Any, storage: Any, label: str, fields: Any, field: str, code: str, params: Any
) -> None:
    result = await create(api, fields)
    assert result.status_code == 400, result.json
    error = result.json["data"][field]
    assert error["code"] == code
    if params:
        assert error["params"] == params
    assert await storage.list(docs["id"]) == []


async def test_required_file_field(api: Any, tokens: Any, docs: Any) -> None:
    patch = {"fields": [*docs["fields"][:-1], {**docs["fields"][-1], "required": True}]}
    result = await api.patch("/api/collections/docs", json=patch, headers={"Authorization": tokens["superuser"]})
    assert result.status_code == 200, result.json
    missing = await create(api, [("title", "x")])
    assert missing.json["data"]["req"]["code"] == "validation_required"
    given = await create(api, [("req", ("a.txt", TEXT))])
    assert given.status_code == 200, given.json


async def test_update_modifiers(api: Any, docs: Any, storage: Any) -> None:
    record = (await create(api, [("files", ("a.txt", b"a"))])).json
    [a] = record["files"]
    appended = (await update(api, record["id"], [("files+", ("bee.txt", b"b"))])).json
    assert appended["files"][0] == a and appended["files"][1].startswith("bee_")
    b = appended["files"][1]
    prepended = (await update(api, record["id"], [("+files", ("cee.txt", b"c"))])).json
    assert prepended["files"][1:] == [a, b] and prepended["files"][0].startswith("cee_")
    c = prepended["files"][0]
    removed = (await update(api, record["id"], [("files-", a)])).json
    assert removed["files"] == [c, b]
    assert await stored(storage, record) == {c, b}
    kept = (await update(api, record["id"], [("files", b), ("files", ("dee.txt", b"d"))])).json
    assert kept["files"][0] == b and kept["files"][1].startswith("dee_")
    assert await stored(storage, record) == set(kept["files"])
    replaced = (await update(api, record["id"], [("files", ("eee.txt", b"e"))])).json
    assert len(replaced["files"]) == 1 and replaced["files"][0].startswith("eee_")
    assert await stored(storage, record) == set(replaced["files"])
    cleared = await api.patch(f"/api/collections/docs/records/{record['id']}", json={"files": []})
    assert cleared.json["files"] == []
    assert await stored(storage, record) == set()


async def test_single_field_replace(api: Any, docs: Any, storage: Any) -> None:
    record = (await create(api, [("one", ("a.txt", b"a"))])).json
    again = (await update(api, record["id"], [("one", ("bee.txt", b"b"))])).json
    assert again["one"].startswith("bee_")
    assert await stored(storage, record) == {again["one"]}


async def test_failed_write_leaves_no_orphans(api: Any, tokens: Any, docs: Any, storage: Any) -> None:
    rule = {"createRule": 'title = "ok"', "updateRule": ""}
    await api.patch("/api/collections/docs", json=rule, headers={"Authorization": tokens["superuser"]})
    refused = await create(api, [("title", "no"), ("files", ("a.txt", TEXT))])
    assert refused.status_code == 400
    assert await storage.list(docs["id"]) == []
    record = (await create(api, [("title", "ok"), ("files", ("a.txt", TEXT))])).json
    # a failed update (unique title) keeps the old files and leaves no new one behind
    indexed = await api.patch("/api/collections/docs", json={"indexes": ["CREATE UNIQUE INDEX idx_t ON docs (title)"]},
                              headers={"Authorization": tokens["superuser"]})
    assert indexed.status_code == 200, indexed.json
    assert (await create(api, [("title", "taken")])).status_code == 400  # createRule
    await api.patch("/api/collections/docs", json={"createRule": ""}, headers={"Authorization": tokens["superuser"]})
    assert (await create(api, [("title", "taken")])).status_code == 200
    clash = await update(api, record["id"], [("title", "taken"), ("files", ("b.txt", b"b"))])
    assert clash.status_code == 400
    assert await stored(storage, record) == set(record["files"])


async def test_delete_removes_files_and_thumbs(api: Any, docs: Any, storage: Any) -> None:
    record = (await create(api, [("files", ("i.png", png()))])).json
    url = f"/api/files/docs/{record['id']}/{record['files'][0]}"
    assert (await api.get(url + "?thumb=10x10")).status_code == 200
    assert len(await stored(storage, record)) == 2
    assert (await api.delete(f"/api/collections/docs/records/{record['id']}")).status_code == 204
    assert await stored(storage, record) == set()


# ------------------------------------------------------------------ serving


@pytest.fixture
async def served(api: Any, docs: Any) -> dict[str, Any]:
    return (await create(api, [("files", ("note.txt", TEXT)), ("files", ("i.png", png()))])).json


async def test_serving_headers(api: Any, served: Any) -> None:
    text, image = served["files"]
    result = await api.get(f"/api/files/docs/{served['id']}/{text}")
    assert result.status_code == 200 and result.content == TEXT
    h = result.headers
    assert h["content-type"] == "text/plain; charset=utf-8"
    assert h["content-disposition"] == f'attachment; filename="{text}"'
    assert h["cache-control"] == "max-age=2592000, stale-while-revalidate=86400"
    assert h["content-security-policy"] == "default-src 'none'; media-src 'self'; style-src 'unsafe-inline'; sandbox"
    assert h["accept-ranges"] == "bytes" and h["last-modified"].endswith("GMT")
    assert h["content-length"] == str(len(TEXT))
    by_id = await api.get(f"/api/files/{served['collectionId']}/{served['id']}/{image}")
    assert by_id.headers["content-disposition"] == f'inline; filename="{image}"'
    assert by_id.headers["content-type"] == "image/png"
    for flag in ("1", "true"):
        download = await api.get(f"/api/files/docs/{served['id']}/{image}?download={flag}")
        assert download.headers["content-disposition"].startswith("attachment;")
    head = await api.head(f"/api/files/docs/{served['id']}/{text}")
    assert head.status_code == 200
    cached = await api.get(f"/api/files/docs/{served['id']}/{text}", headers={"If-Modified-Since": h["last-modified"]})
    assert cached.status_code == 304


@pytest.mark.parametrize(
    ("header", "status", "body", "content_range"),
    [
        ("bytes=0-4", 206, TEXT[0:5], "bytes 0-4/11"),
        ("bytes=6-", 206, TEXT[6:], "bytes 6-10/11"),
        ("bytes=-5", 206, TEXT[-5:], "bytes 6-10/11"),
        ("bytes=3-100", 206, TEXT[3:], "bytes 3-10/11"),
        ("bytes=20-30", 416, None, "bytes */11"),
        ("bytes=0-0,2-3", 200, TEXT, None),
    ],
)
async def test_ranges(api: Any, served: Any, header: str, status: int, body: Any, content_range: Any) -> None:
    result = await api.get(f"/api/files/docs/{served['id']}/{served['files'][0]}", headers={"Range": header})
    assert result.status_code == status
    if body is not None:
        assert result.content == body
    assert result.headers.get("content-range") == content_range


@pytest.mark.parametrize(
    "path",
    [
        "/api/files/docs/{id}/nope.txt",
        "/api/files/docs/nope/{file}",
        "/api/files/nope/{id}/{file}",
        "/api/files/docs/{id}/..%2F..%2Fdata.db",
        "/api/files/docs/{id}/%2E%2E",
        "/api/files/docs/..%2F{id}/{file}",
        "/api/files/docs/{id}/{file}.attrs",
    ],
)
async def test_not_found_and_no_traversal(api: Any, served: Any, path: str) -> None:
    result = await api.get(path.format(id=served["id"], file=served["files"][0]))
    if result.status_code == 307:  # the kernel cleans ".." out of paths first, as PocketBase's mux
        assert ".." not in result.headers["location"]
        result = await api.get(result.headers["location"])
    assert result.status_code == 404
    assert result.json["status"] == 404 and result.json["data"] == {}


@pytest.mark.parametrize(
    ("thumb", "size"),
    [
        ("10x10", (10, 10)),
        ("10x10t", (10, 10)),
        ("10x10b", (10, 10)),
        ("10x10f", (10, 5)),
        ("0x10", (20, 10)),
        ("10x0", (10, 5)),
        ("100x100", (100, 100)),
        ("20x20", (40, 20)),  # not declared: the original
        ("bogus", (40, 20)),
    ],
)
async def test_thumbs(api: Any, served: Any, storage: Any, thumb: str, size: tuple[int, int]) -> None:
    image = served["files"][1]
    url = f"/api/files/docs/{served['id']}/{image}?thumb={thumb}"
    first = await api.get(url)
    assert first.status_code == 200 and first.headers["content-type"] == "image/png"
    assert Image.open(io.BytesIO(first.content)).size == size
    names = await stored(storage, served)
    if size != (40, 20):
        assert f"thumbs_{image}/{thumb}_{image}" in names
        assert first.headers["content-disposition"] == f'inline; filename="{thumb}_{image}"'
        again = await api.get(url)
        assert again.content == first.content
    else:
        assert not any(n.startswith("thumbs_") for n in names)


async def test_thumb_of_non_image_is_the_original(api: Any, served: Any) -> None:
    result = await api.get(f"/api/files/docs/{served['id']}/{served['files'][0]}?thumb=10x10")
    assert result.content == TEXT


@pytest.mark.parametrize("fmt", ["JPEG", "GIF", "WEBP"])
async def test_thumb_formats(api: Any, docs: Any, fmt: str) -> None:
    record = (await create(api, [("files", (f"i.{fmt.lower()}", png(fmt=fmt)))])).json
    result = await api.get(f"/api/files/docs/{record['id']}/{record['files'][0]}?thumb=10x10")
    image = Image.open(io.BytesIO(result.content))
    assert image.size == (10, 10) and image.format == fmt


# ------------------------------------------------------------------ protected files


@pytest.fixture
async def secret(api: Any, tokens: Any, docs: Any) -> dict[str, Any]:
    made = await api.post("/api/collections", json=SECRETS, headers={"Authorization": tokens["superuser"]})
    assert made.status_code == 200, made.json
    result = await create(api, [("owner", tokens["user_id"]), ("doc", ("s.txt", b"secret"))], "secrets")
    assert result.status_code == 200, result.json
    return result.json


async def file_token(api: Any, auth: str | None) -> Any:
    return await api.post("/api/files/token", headers={"Authorization": auth} if auth else {})


@pytest.mark.parametrize(
    ("who", "status"),
    [(None, 404), ("user", 200), ("user2", 404), ("superuser", 200), ("bad", 404), ("auth-token", 404)],
)
async def test_protected_files(api: Any, tokens: Any, secret: Any, who: Any, status: int) -> None:
    url = f"/api/files/secrets/{secret['id']}/{secret['doc']}"
    if who in ("user", "user2", "superuser"):
        minted = await file_token(api, tokens[who])
        assert minted.status_code == 200
        url += "?token=" + minted.json["token"]
    elif who == "bad":
        url += "?token=abc.def.ghi"
    elif who == "auth-token":
        url += "?token=" + tokens["user"]  # an auth token is not a file token
    result = await api.get(url, headers={"Authorization": tokens["user"]} if who is None else {})
    assert result.status_code == status
    if status == 200:
        assert result.content == b"secret"


@pytest.mark.parametrize(("client_ip", "status"), [("203.0.113.7", 200), ("198.51.100.1", 404)])
async def test_a_superuser_file_token_from_outside_superuser_ips_is_a_guests(
    api: Any, app: Any, tokens: Any, secret: Any, client_ip: str, status: int
) -> None:
    minted = await file_token(api, tokens["superuser"])
    assert minted.status_code == 200
    await app.settings.update({
        "superuserIPs": ["203.0.113.0/28"],
        "trustedProxy": {"headers": ["X-Real-IP"], "useLeftmostIP": False},
    })
    result = await api.get(f"/api/files/secrets/{secret['id']}/{secret['doc']}?token={minted.json['token']}",
                           headers={"X-Real-IP": client_ip})
    assert result.status_code == status


async def test_file_token_needs_auth(api: Any, tokens: Any) -> None:
    result = await file_token(api, None)
    assert result.status_code == 401
    assert result.json["message"] == "The request requires valid record authorization token."


async def test_protected_with_public_view_rule(api: Any, tokens: Any, secret: Any) -> None:
    await api.patch("/api/collections/secrets", json={"viewRule": ""}, headers={"Authorization": tokens["superuser"]})
    result = await api.get(f"/api/files/secrets/{secret['id']}/{secret['doc']}")
    assert result.status_code == 200 and result.content == b"secret"


# ------------------------------------------------------------------ S3 settings test


async def test_s3_connection_test(api: Any, app: Any, tokens: Any, backend: str) -> None:
    path, su = "/api/settings/test/s3", {"Authorization": tokens["superuser"]}
    assert (await api.post(path, json={"filesystem": "storage"})).status_code == 401
    assert (await api.post(path, json={"filesystem": "storage"}, headers={"Authorization": tokens["user"]})).status_code == 403
    bad = await api.post(path, json={"filesystem": "x"}, headers=su)
    assert bad.json["data"]["filesystem"]["code"] == "validation_in_invalid"
    backups = await api.post(path, json={"filesystem": "backups"}, headers=su)
    assert backups.status_code == 400
    assert backups.json["message"] == "Failed to test the S3 filesystem. Raw error: \nS3 backups filesystem is not enabled."
    result = await api.post(path, json={"filesystem": "storage"}, headers=su)
    if backend == "local":
        assert result.status_code == 400
        assert result.json["message"].endswith("S3 storage filesystem is not enabled.")
        return
    assert result.status_code == 204, result.json
    await app.settings.update({"s3": {"bucket": "no-such-bucket-pbk"}})
    broken = await api.post(path, json={"filesystem": "storage"}, headers=su)
    assert broken.status_code == 400
    assert broken.json["message"].startswith("Failed to test the S3 filesystem. Raw error:")
    assert "NoSuchBucket" in broken.json["message"] or "bucket" in broken.json["message"].lower()
