"""Files uploaded in a ``/api/batch`` request are named as PocketBase names them: twice (it
names them when it reads the batch and again when it runs each item as a new multipart
request), so ``a.txt`` is stored as ``a_<10>_<10>.txt``."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
from files_testing import multipart
from pbk_sdk.testing import pocketbase_superuser, superuser_token

SUPERUSER = ("root@example.com", "1234567890")
CLIENT_NAMES = ["Hello World.txt", "a.txt", "x" * 120 + ".txt", "noext", "ab.tar.gz"]


def shape(name: str) -> str:
    """A stored name with every random character masked (random parts have fixed lengths)."""
    return re.sub(r"[a-z0-9]", "#", name)


def batch_upload(url: str, token: str) -> list[str]:
    su = {"Authorization": token}
    assert httpx.patch(f"{url}/api/settings", headers=su, json={"batch": {"enabled": True}}).status_code == 200
    made = httpx.post(f"{url}/api/collections", headers=su, json={
        "name": "docs", "type": "base", "fields": [{"name": "files", "type": "file", "maxSelect": 9}]})
    assert made.status_code == 200, made.text
    payload = {"requests": [{"method": "POST", "url": "/api/collections/docs/records", "body": {}}]}
    body, head = multipart([("@jsonPayload", json.dumps(payload)),
                            *[("requests.0.files", (name, b"plain text", "text/plain")) for name in CLIENT_NAMES]])
    done = httpx.post(f"{url}/api/batch", headers={**head, **su}, content=body)
    assert done.status_code == 200, done.text
    return done.json()[0]["body"]["files"]


def test_batch_uploads_are_named_as_pocketbase_names_them(
    live_server_factory: Any, pocketbase_factory: Any, tmp_path: Any, pbk_cli: Any
) -> None:
    pocketbase_superuser(tmp_path / "pb_real", *SUPERUSER)
    real = pocketbase_factory()
    expected = batch_upload(real.url, superuser_token(real.url, *SUPERUSER))

    pbk_cli("superuser", "upsert", *SUPERUSER)
    ours = live_server_factory(["--plugins", "records,auth,files,settings"])
    names = batch_upload(ours.url, superuser_token(ours.url, *SUPERUSER))

    assert [shape(name) for name in names] == [shape(name) for name in expected]
    assert re.fullmatch(r"hello_world_[a-z0-9]{10}_[a-z0-9]{10}\.txt", names[0])
