"""Request bodies as PocketBase reads them: JSON, multipart with ``@jsonPayload``, urlencoded.

Form values are inferred (``"true"``/``"false"`` → bool, canonical numbers → number) and
repeated keys become lists. A multipart form of up to ``SPOOL_BYTES`` is read whole and split in
memory (``pbk_sdk.multipart``); a larger one is parsed as it streams in, its files spooled to
disk past ``SPOOL_BYTES``, so a large upload is never held whole in memory. An empty body is
fine whatever the Content-Type. An urlencoded body of more than ``MAX_FORM_FIELDS`` fields, or a
multipart one of more than ``MAX_FORM_PARTS`` parts, is refused with a 400, as PocketBase
refuses it.

JSON nested deeper than ``MAX_JSON_DEPTH`` is refused with a 400, the answer PocketBase gives
past Go's decoder limit (10000 levels). pbk's limit is lower: deeper values would overflow
Python's recursion in the field code and orjson's (254 levels) when the record is answered.
"""

from __future__ import annotations

import io
import re
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import IO, Any
from urllib.parse import parse_qsl

import falcon.media
import orjson

from .errors import ApiError
from .multipart import parts_in_memory

SPOOL_BYTES = 1 << 20
JSON_PAYLOAD = "@jsonPayload"
CANONICAL_NUMBER = re.compile(r"^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$")
#: Arrays and objects inside one another a request body may hold. A record answered in a list
#: with nested ``expand`` adds about 25 levels, within orjson's 254.
MAX_JSON_DEPTH = 200
#: Fields an urlencoded body may hold: Go's ``url.ParseQuery`` refuses more (its
#: ``urlmaxqueryparams``), so PocketBase answers a larger form with a 400; it also bounds the
#: work one request's form costs.
MAX_FORM_FIELDS = 10_000
#: Parts a multipart body may hold: Go's ``mime/multipart`` refuses more (its
#: ``multipartmaxparts``), so PocketBase answers a larger form with a 400. Falcon's own
#: default (64) would refuse forms PocketBase takes.
MAX_FORM_PARTS = 1000
_MULTIPART = falcon.media.MultipartFormHandler()
_MULTIPART.parse_options.max_body_part_count = MAX_FORM_PARTS


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
    #: Each ``@jsonPayload`` of a form, parsed, in order (only when read with ``json_payloads``).
    payloads: list[Any] = field(default_factory=list)

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


def json_too_deep(value: Any, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether ``value`` nests more than ``limit`` arrays/objects, walked level by level (no
    recursion, so any depth is safe to ask about)."""
    level = [value] if isinstance(value, (dict, list, tuple)) else []
    depth = 0
    while level:
        depth += 1
        if depth > limit:
            return True
        level = [
            child
            for container in level
            for child in (container.values() if isinstance(container, dict) else container)
            if isinstance(child, (dict, list, tuple))
        ]
    return False


def _loads(raw: bytes, bad_json: str) -> Any:
    """``orjson.loads`` with a 400 for malformed JSON or JSON nested deeper than ``MAX_JSON_DEPTH``
    (orjson stops by itself at 1024; fewer brackets than the limit need no walk)."""
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ApiError(400, bad_json) from exc
    if raw.count(b"[") + raw.count(b"{") > MAX_JSON_DEPTH and json_too_deep(data):
        raise ApiError(400, bad_json)
    return data


def _add(data: dict[str, Any], key: str, value: Any) -> None:
    """Set ``key``; a repeated key collects its values in a list (extended in place: a form
    repeating one name thousands of times stays linear)."""
    if key not in data:
        data[key] = value
    elif isinstance(data[key], list):
        data[key].append(value)
    else:
        data[key] = [data[key], value]


async def read_body(req: Any, *, bad_json: str = "", infer_values: bool = True, json_payloads: bool = False) -> Body:
    """Parse the request body; 400 on malformed input or an unsupported Content-Type.
    ``infer_values=False`` keeps form values as the text sent (for a reader that converts them
    by its own types, as PocketBase does for a struct). A form's ``@jsonPayload`` objects are
    merged into ``data`` (shallowly, as into PocketBase's record map); ``json_payloads`` leaves
    every ``@jsonPayload`` of a form, of any JSON type, parsed in ``Body.payloads`` instead."""
    value_of = infer if infer_values else str
    raw_type = (req.content_type or "").lower()
    media_type = raw_type.split(";", 1)[0].strip()
    if media_type == "multipart/form-data":
        return await _read_multipart(req, bad_json, value_of, json_payloads)
    raw = await req.stream.read()
    if not raw.strip():
        return Body()
    if media_type == "application/json" or media_type.endswith("+json"):
        data = _loads(raw, bad_json)
        if data is None:
            return Body()
        if not isinstance(data, dict):
            raise ApiError(400, bad_json)
        return Body(data=data)
    if media_type == "application/x-www-form-urlencoded":
        form: dict[str, Any] = {}
        try:
            pairs = parse_qsl(raw.decode(), keep_blank_values=True, max_num_fields=MAX_FORM_FIELDS)
        except (UnicodeDecodeError, ValueError) as exc:
            raise ApiError(400, bad_json) from exc
        body = Body(data=form)
        for key, value in pairs:
            if json_payloads and key == JSON_PAYLOAD:
                body.payloads.append(_loads(value.encode(), bad_json))
            else:
                _add(form, key, value_of(value))
        return body
    raise ApiError(400, "Unsupported Content-Type.")


async def _read_multipart(req: Any, bad_json: str, value_of: Any, json_payloads: bool) -> Body:
    body = Body()
    try:
        length = req.content_length
        if length is not None and length <= SPOOL_BYTES:  # held in memory anyway: split there
            for part, content in parts_in_memory(await req.stream.read(), req.content_type, _MULTIPART.parse_options):
                if part.filename:
                    # BytesIO shares the bytes it starts with: no copy until written to
                    _add_file(body, part, len(content), io.BytesIO(content))
                else:
                    _add_value(body, part.name or "", content, bad_json, value_of, json_payloads)
            return body
        form = await _MULTIPART.deserialize_async(req.stream, req.content_type, length)
        async for part in form:
            if part.filename:
                # open past this function, in the Body: ``Body.close()`` closes it
                spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115
                size = 0
                async for chunk in part.stream:
                    size += len(chunk)
                    spool.write(chunk)
                spool.seek(0)
                _add_file(body, part, size, spool)
                continue
            _add_value(body, part.name or "", await part.stream.read(), bad_json, value_of, json_payloads)
    except ApiError:
        body.close()
        raise
    except Exception as exc:  # falcon's multipart parse errors: a malformed form
        body.close()
        raise ApiError(400, bad_json) from exc
    return body


def _add_file(body: Body, part: Any, size: int, file: IO[bytes]) -> None:
    upload = UploadedFile(part.filename, part.content_type or "application/octet-stream", size, file)
    body.files.setdefault(part.name or "", []).append(upload)


def _add_value(body: Body, name: str, raw: bytes, bad_json: str, value_of: Any, json_payloads: bool) -> None:
    text = raw.decode("utf-8", errors="replace")
    if name == JSON_PAYLOAD:
        payload = _loads(text.encode(), bad_json)
        if json_payloads:
            body.payloads.append(payload)
        elif isinstance(payload, Mapping):
            body.data.update(payload)
        return
    _add(body.data, name, value_of(text))
