"""A form read in memory (``pbk_sdk.multipart``, forms up to ``SPOOL_BYTES``) gives what falcon's
streaming parser gives for the same bytes (larger forms, or forms of unknown length): the same
values, files and payloads, or the same 400."""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass
from typing import Any

from falcon.asgi.stream import BoundedStream
from hypothesis import given, settings
from hypothesis import strategies as st
from pbk_sdk.body import JSON_PAYLOAD, read_body
from pbk_sdk.errors import ApiError

BOUNDARY = "b0undary"
BAD = "Bad form."


@dataclass
class FakeRequest:
    """What ``read_body`` reads of falcon's request, over an ASGI ``receive`` that hands the
    body out in the given chunks."""

    content_type: str
    content_length: int | None
    stream: BoundedStream


def request(raw: bytes, content_type: str, chunks: list[int], *, known_length: bool) -> FakeRequest:
    pieces, pos = [], 0
    for size in chunks:
        pieces.append(raw[pos:pos + size])
        pos += size
    pieces.append(raw[pos:])
    messages = iter(pieces)

    async def receive() -> dict[str, Any]:
        piece = next(messages, None)
        if piece is None:
            return {"type": "http.request", "body": b"", "more_body": False}
        return {"type": "http.request", "body": piece, "more_body": True}

    length = len(raw) if known_length else None
    return FakeRequest(content_type, length, BoundedStream(receive, content_length=length))


def outcome(raw: bytes, content_type: str, chunks: list[int], *, known_length: bool) -> Any:
    async def read() -> Any:
        try:
            body = await read_body(request(raw, content_type, chunks, known_length=known_length), bad_json=BAD)
        except ApiError as exc:
            return ("error", exc.status, exc.message)
        files = {
            name: [(f.filename, f.content_type, f.size, f.read()) for f in uploads]
            for name, uploads in body.files.items()
        }
        body.close()
        return (body.data, files)

    return asyncio.run(read())


def both(raw: bytes, content_type: str = f"multipart/form-data; boundary={BOUNDARY}", chunks: tuple[int, ...] = ()) -> Any:
    in_memory = outcome(raw, content_type, list(chunks), known_length=True)
    streamed = outcome(raw, content_type, list(chunks), known_length=False)
    assert in_memory == streamed
    return in_memory


def form(*parts: bytes, end: bytes = b"--\r\n") -> bytes:
    return b"".join(b"--" + BOUNDARY.encode() + b"\r\n" + part + b"\r\n" for part in parts) + b"--" + BOUNDARY.encode() + end


def test_a_form_with_values_files_and_a_json_payload():
    raw = form(
        b'Content-Disposition: form-data; name="title"\r\n\r\nhello',
        b'Content-Disposition: form-data; name="views"\r\n\r\n12',
        b'Content-Disposition: form-data; name="tags"\r\n\r\na',
        b'Content-Disposition: form-data; name="tags"\r\n\r\nb',
        b'Content-Disposition: form-data; name="' + JSON_PAYLOAD.encode() + b'"\r\n\r\n{"extra": true}',
        b'Content-Disposition: form-data; name="doc"; filename="a.txt"\r\nContent-Type: text/plain\r\n\r\nfile\r\nbody',
        b"Content-Disposition: form-data; name=\"doc\"; filename*=UTF-8''%C3%A9t%C3%A9.bin\r\n\r\n\x00\x01",
    )
    data, files = both(raw, chunks=(7, 30, 1))
    assert data == {"title": "hello", "views": 12, "tags": ["a", "b"], "extra": True}
    assert files == {"doc": [("a.txt", "text/plain", 10, b"file\r\nbody"), ("été.bin", "text/plain", 2, b"\x00\x01")]}


def test_malformed_forms_are_refused_alike():
    part = b'Content-Disposition: form-data; name="a"\r\n\r\nx'
    refused = ("error", 400, BAD)
    assert both(b"no boundary at all") == refused
    assert both(form(part, end=b"")[:-len(BOUNDARY) - 4]) == refused  # no closing boundary
    assert both(b"--" + BOUNDARY.encode() + b" \r\n" + part + b"\r\n--" + BOUNDARY.encode() + b"--") == refused
    assert both(form(b'Content-Disposition: form-data; name="a"\r\nContent-Transfer-Encoding: base64\r\n\r\neA==')) == refused
    assert both(form(b"X-Long: " + b"h" * 9000 + b"\r\n\r\nx")) == refused
    assert both(form(part), content_type="multipart/form-data") == refused
    assert both(form(*[part] * 1001)) == refused
    assert both(form(b'Content-Disposition: form-data; name="' + JSON_PAYLOAD.encode() + b'"\r\n\r\n{bad')) == refused


PIECES = [
    b"--" + BOUNDARY.encode(), b"\r\n", b"\r\n\r\n", b"--", b"-", b"\r", b"\n", b" ",
    b'Content-Disposition: form-data; name="a"', b'Content-Disposition: form-data; name="f"; filename="x.txt"',
    b"Content-Type: image/png", b"content-type: text/plain", b"Content-Transfer-Encoding: binary",
    b"value", b"12", b"true", b"\xff\xfe", b"\r\n--" + BOUNDARY.encode()[:4],
]


@st.composite
def forms(draw: Any) -> tuple[bytes, tuple[int, ...]]:
    """Mostly well-formed forms, then cut, doubled or sprinkled with boundary fragments."""
    parts = []
    for _ in range(draw(st.integers(0, 4))):
        headers = draw(st.lists(st.sampled_from(PIECES[8:13]), max_size=3))
        content = b"".join(draw(st.lists(st.sampled_from(PIECES), max_size=6)))
        parts.append(b"\r\n".join(headers) + b"\r\n\r\n" + content)
    raw = draw(st.sampled_from([b"", b"preamble\r\n", b"\r\n"])) + form(*parts, end=draw(st.sampled_from([b"--", b"--\r\n", b"--epilogue", b"\r\n"])))
    mutation = draw(st.sampled_from(["none", "cut", "insert"]))
    if mutation == "cut":
        raw = raw[:draw(st.integers(0, len(raw)))]
    elif mutation == "insert":
        at = draw(st.integers(0, len(raw)))
        raw = raw[:at] + draw(st.sampled_from(PIECES)) + raw[at:]
    rng = random.Random(draw(st.integers(0, 2**16)))
    return raw, tuple(rng.randint(1, 40) for _ in range(rng.randint(0, 4)))


@settings(max_examples=300, deadline=None)
@given(forms())
def test_generated_forms_read_alike(case: tuple[bytes, tuple[int, ...]]):
    raw, chunks = case
    both(raw, chunks=chunks)
