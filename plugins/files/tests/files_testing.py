"""Helpers shared by the files plugin's tests (a module of its own: ``conftest`` names clash
between plugins when the whole suite is collected)."""

from __future__ import annotations

import io
import secrets
from typing import Any

DOCS = {
    "name": "docs",
    "type": "base",
    "listRule": "",
    "viewRule": "",
    "createRule": "",
    "updateRule": "",
    "deleteRule": "",
    "fields": [
        {"name": "title", "type": "text"},
        {"name": "files", "type": "file", "maxSelect": 3, "maxSize": 1000,
         "mimeTypes": ["text/plain", "image/png", "image/jpeg", "image/gif", "image/webp"],
         "thumbs": ["10x10", "10x10t", "10x10b", "10x10f", "0x10", "10x0"]},
        {"name": "one", "type": "file", "maxSelect": 1},
        {"name": "req", "type": "file", "maxSelect": 2},
    ],
}
SECRETS = {
    "name": "secrets",
    "type": "base",
    "listRule": "",
    "viewRule": "owner = @request.auth.id",
    "createRule": "",
    "updateRule": "",
    "fields": [
        {"name": "owner", "type": "text"},
        {"name": "doc", "type": "file", "maxSelect": 1, "protected": True},
    ],
}

#: A collection without file fields.
NOTES = {"name": "notes", "type": "base", "createRule": "", "fields": [{"name": "text", "type": "text"}]}


async def create_collections(api: Any, superuser_token: str, *schemas: dict[str, Any]) -> dict[str, Any]:
    """Create each collection as a superuser; their JSON by name."""
    made = {}
    for schema in schemas:
        answer = await api.post("/api/collections", json=schema, headers={"Authorization": superuser_token})
        assert answer.status_code == 200, answer.text
        made[schema["name"]] = answer.json
    return made


async def create(api: Any, fields: list[tuple[str, Any]], collection: str = "docs", headers: Any = None) -> Any:
    body, head = multipart(fields)
    return await api.post(f"/api/collections/{collection}/records", body=body, headers={**head, **(headers or {})})


async def update(api: Any, record_id: str, fields: list[tuple[str, Any]], collection: str = "docs") -> Any:
    body, head = multipart(fields)
    return await api.patch(f"/api/collections/{collection}/records/{record_id}", body=body, headers=head)


async def stored(storage: Any, record: dict[str, Any]) -> set[str]:
    prefix = f"{record['collectionId']}/{record['id']}"
    return {info.key[len(prefix) + 1 :] for info in await storage.list(prefix)}


async def read(storage: Any, key: str) -> bytes:
    return b"".join([chunk async for chunk in storage.open(key)])


# ------------------------------------------------------------------ uploads


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

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (width, height), color).save(out, format=fmt)
    return out.getvalue()
