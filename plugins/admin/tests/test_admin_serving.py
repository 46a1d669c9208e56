"""How ``/_/`` is served: the redirect, the page revalidated, hashed files cached for a year
and sent precompressed, missing files a 404."""

from __future__ import annotations

import gzip
import re

from pbk_sdk.interfaces import RECORD_STORE
from ui_build import SHIPPED


def asset_paths() -> list[str]:
    """The files ``index.html`` loads, as URLs under ``/_/``."""
    html = (SHIPPED / "index.html").read_text()
    return ["/_/" + path for path in re.findall(r'(?:src|href)="\./(assets/[^"]+)"', html)]


async def test_bare_path_redirects_to_the_folder(pbk_client):
    result = await pbk_client.get("/_", params={"a": "1"})
    assert result.status_code == 301
    assert result.headers["location"] == "/_/?a=1"


async def test_page_is_revalidated_and_names_hashed_files(pbk_client):
    result = await pbk_client.get("/_/")
    assert result.status_code == 200
    assert result.headers["content-type"] == "text/html; charset=utf-8"
    assert result.headers["cache-control"] == "no-cache"
    assert "script-src 'self'" in result.headers["content-security-policy"]
    assert '<div id="app">' in result.text
    etag = result.headers["etag"]
    again = await pbk_client.get("/_/", headers={"If-None-Match": etag})
    assert again.status_code == 304 and not again.content
    assert {path.rsplit(".", 1)[-1] for path in asset_paths()} == {"js", "css"}


async def test_hashed_files_are_immutable_and_precompressed(pbk_client):
    for path in asset_paths():
        name = path.removeprefix("/_/")
        brotli = await pbk_client.get(path, headers={"Accept-Encoding": "gzip, deflate, br"})
        assert brotli.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert brotli.headers["content-encoding"] == "br"
        assert "Accept-Encoding" in brotli.headers["vary"]
        assert brotli.content == (SHIPPED / f"{name}.br").read_bytes()
        zipped = await pbk_client.get(path, headers={"Accept-Encoding": "gzip;q=1, br;q=0"})
        assert zipped.headers["content-encoding"] == "gzip"
        assert gzip.decompress(zipped.content) == (SHIPPED / name).read_bytes()
        plain = await pbk_client.get(path, headers={"Accept-Encoding": "identity"})
        assert "content-encoding" not in plain.headers
        assert plain.content == (SHIPPED / name).read_bytes()
        assert plain.headers["content-type"].split(";")[0] in ("text/javascript", "text/css")
        head = await pbk_client.head(path)
        assert head.status_code == 200 and not head.content


async def test_each_encoding_has_its_own_etag_and_if_none_match_is_a_list(pbk_client):
    tags = {}
    for accepted in ("br", "gzip", "identity"):
        sent = await pbk_client.get("/_/", headers={"Accept-Encoding": accepted})
        tags[accepted] = sent.headers["etag"]
    plain = tags["identity"]
    assert tags == {"br": plain[:-1] + '-br"', "gzip": plain[:-1] + '-gz"', "identity": plain}
    for header, status in ((f'"other", W/{tags["br"]}', 304), ("*", 304), (plain, 200),
                           (f'W/{tags["gzip"]}', 200), ('"other"', 200)):
        answer = await pbk_client.get("/_/", headers={"Accept-Encoding": "br", "If-None-Match": header})
        assert answer.status_code == status, header
        assert answer.headers["etag"] == tags["br"]


async def test_missing_file_is_a_404(pbk_client):
    for path in ("/_/nothing.js", "/_/assets/../../pyproject.toml", "/_/assets/"):
        result = await pbk_client.get(path)
        assert result.status_code == 404, path
        assert result.json["status"] == 404


async def test_features_only_for_superusers(pbk_app, pbk_client):
    """The plugins the server runs are told to a superuser, and to nobody else."""
    store = pbk_app.services.get(RECORD_STORE, "sqlite")
    for collection, email in (("_superusers", "root@example.com"), ("users", "ada@example.com")):
        await store.create(store.collection(collection), {"email": email, "password": "1234567890"})
    tokens = {}
    for collection, email in (("_superusers", "root@example.com"), ("users", "ada@example.com")):
        signed_in = await pbk_client.post(f"/api/collections/{collection}/auth-with-password",
                                          json={"identity": email, "password": "1234567890"})
        tokens[collection] = signed_in.json["token"]
    anonymous = await pbk_client.get("/api/admin/features")
    assert anonymous.status_code == 401 and "plugins" not in anonymous.text
    assert set(anonymous.json) == {"status", "message", "data"}
    user = await pbk_client.get("/api/admin/features", headers={"Authorization": tokens["users"]})
    assert user.status_code == 403 and "plugins" not in user.text
    assert set(user.json) == {"status", "message", "data"}
    superuser = await pbk_client.get("/api/admin/features", headers={"Authorization": tokens["_superusers"]})
    assert superuser.status_code == 200 and superuser.headers["cache-control"] == "no-cache"
    assert superuser.json == {"plugins": ["admin", "auth", "records"]}
    assert (await pbk_client.get("/_/features.json")).status_code == 404
