"""Request bodies as PocketBase reads them: JSON, multipart with ``@jsonPayload``, urlencoded.

Form values are inferred (``"true"``/``"false"`` → bool, canonical numbers → number) and
repeated keys become lists. Uploaded files are spooled to disk past ``SPOOL_BYTES``, so a large
upload is never held whole in memory. An empty body is fine whatever the Content-Type.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import IO, Any
from urllib.parse import parse_qsl

import orjson

from .errors import ApiError

SPOOL_BYTES = 1 << 20
JSON_PAYLOAD = "@jsonPayload"
CANONICAL_NUMBER = re.compile(r"^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$")


@dataclass
class UploadedFile:
    """One file part: its client name, type, size and a readable spooled file."""

    filename: str
    content_type: str
    size: int
    file: IO[bytes] = field(repr=False)

    def read(self) -> bytes:
        self.file.seek(0)
        return self.file.read()

    def close(self) -> None:
        self.file.close()


@dataclass
class Body:
    data: dict[str, Any] = field(default_factory=dict)
    files: dict[str, list[UploadedFile]] = field(default_factory=dict)

    def close(self) -> None:
        for uploads in self.files.values():
            for upload in uploads:
                upload.close()


def infer(value: str) -> Any:
    """PocketBase's form value inference."""
    if value == "true":
        return True
    if value == "false":
        return False
    if CANONICAL_NUMBER.match(value):
        number = float(value)
        return int(number) if number.is_integer() and abs(number) < 2**53 else number
    return value


def _add(data: dict[str, Any], key: str, value: Any) -> None:
    if key in data:
        existing = data[key]
        data[key] = [*existing, value] if isinstance(existing, list) else [existing, value]
    else:
        data[key] = value


async def read_body(req: Any, *, bad_json: str = "") -> Body:
    """Parse the request body; 400 on malformed input or an unsupported Content-Type."""
    raw_type = (req.content_type or "").lower()
    media_type = raw_type.split(";", 1)[0].strip()
    if media_type == "multipart/form-data":
        return await _read_multipart(req, bad_json)
    raw = await req.stream.read()
    if not raw.strip():
        return Body()
    if media_type == "application/json" or media_type.endswith("+json"):
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise ApiError(400, bad_json) from exc
        if data is None:
            return Body()
        if not isinstance(data, dict):
            raise ApiError(400, bad_json)
        return Body(data=data)
    if media_type == "application/x-www-form-urlencoded":
        form: dict[str, Any] = {}
        try:
            pairs = parse_qsl(raw.decode(), keep_blank_values=True, strict_parsing=False)
        except UnicodeDecodeError as exc:
            raise ApiError(400, bad_json) from exc
        for key, value in pairs:
            _add(form, key, infer(value))
        return Body(data=form)
    raise ApiError(400, "Unsupported Content-Type.")


async def _read_multipart(req: Any, bad_json: str) -> Body:
    body = Body()
    try:
        form = await req.get_media()
        async for part in form:
            name = part.name or ""
            if part.filename:
                # open past this function, in the Body: ``Body.close()`` closes it
                spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115
                size = 0
                async for chunk in part.stream:
                    size += len(chunk)
                    spool.write(chunk)
                spool.seek(0)
                body.files.setdefault(name, []).append(
                    UploadedFile(part.filename, part.content_type or "application/octet-stream", size, spool)
                )
                continue
            text = (await part.stream.read()).decode("utf-8", errors="replace")
            if name == JSON_PAYLOAD:
                try:
                    payload = orjson.loads(text)
                except orjson.JSONDecodeError as exc:
                    raise ApiError(400, bad_json) from exc
                if isinstance(payload, Mapping):
                    body.data.update(payload)
                continue
            _add(body.data, name, infer(text))
    except ApiError:
        body.close()
        raise
    except Exception as exc:  # falcon's multipart parse errors: a malformed form
        body.close()
        raise ApiError(400, bad_json) from exc
    return body
