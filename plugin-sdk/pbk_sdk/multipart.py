"""A multipart form already in memory, split into its parts the way falcon's streaming parser
splits it, with a few ``bytes.find`` calls instead of its buffered async reads.

``body.read_body`` uses it for a form no larger than ``SPOOL_BYTES``, which would sit in memory
anyway: a 100 KB upload costs about a fifth of the CPU falcon's parser spends on it (a chain of
async generators per part, and each file part copied several times). Larger forms, and forms
of unknown length, go through falcon's parser, so they are never held whole. Both take and
refuse the same forms (``tests/test_body_multipart.py`` compares them on generated forms); the
parts are falcon's own ``BodyPart``, so a part's name, file name (``filename*`` included) and
content type are read by falcon's code in both.
"""

from __future__ import annotations

from collections.abc import Iterator

import falcon
from falcon.asgi.multipart import BodyPart
from falcon.media.multipart import MultipartParseOptions

_CRLF = b"\r\n"
_CRLF_CRLF = b"\r\n\r\n"
#: The part headers falcon keeps (RFC 7578, section 4.8: others are ignored).
_CONTENT_HEADERS = frozenset({b"content-type", b"content-disposition", b"content-transfer-encoding"})


def boundary_of(content_type: str) -> bytes:
    """The form's boundary, checked as falcon's ``MultipartFormHandler`` checks it."""
    _, options = falcon.parse_header(content_type)
    boundary = str(options.get("boundary", "")).rstrip()
    if not 1 <= len(boundary) <= 70:
        raise falcon.MultipartParseError(description="invalid boundary")
    return boundary.encode()


def parts_in_memory(raw: bytes, content_type: str, options: MultipartParseOptions) -> Iterator[tuple[BodyPart, bytes]]:
    """Each part of the form ``raw`` and its content; ``falcon.MultipartParseError`` for a
    form falcon's parser refuses (a missing boundary, a boundary line not ended by CRLF, part
    headers past ``max_body_part_headers_size`` or unterminated, too many parts, a part with
    no closing boundary, a ``Content-Transfer-Encoding`` other than binary)."""
    dash_boundary = b"--" + boundary_of(content_type)
    delimiter = _CRLF + dash_boundary
    found = raw.find(dash_boundary)  # whatever precedes the first boundary is skipped
    if found < 0:
        raise falcon.MultipartParseError(description="unexpected form structure")
    pos = found + len(dash_boundary)
    remaining = options.max_body_part_count
    while raw[pos:pos + 2] != b"--":  # a boundary then "--" ends the form; the rest is skipped
        if raw[pos:pos + 2] != _CRLF:
            raise falcon.MultipartParseError(description="unexpected form structure")
        pos += 2
        headers_end = raw.find(_CRLF_CRLF, pos)
        if headers_end < 0 or headers_end - pos > options.max_body_part_headers_size:
            raise falcon.MultipartParseError(description="incomplete body part headers")
        headers = _headers(raw[pos:headers_end])
        remaining -= 1
        if remaining < 0 < options.max_body_part_count:
            raise falcon.MultipartParseError(description="maximum number of form body parts exceeded")
        pos = headers_end + 4
        end = raw.find(delimiter, pos)
        if end < 0:
            raise falcon.MultipartParseError(description="unexpected form structure")
        yield BodyPart(None, headers, options), raw[pos:end]  # type: ignore[arg-type]
        pos = end + len(delimiter)


def _headers(block: bytes) -> dict[bytes, bytes]:
    headers = {}
    for line in block.split(_CRLF):
        name, sep, value = line.partition(b": ")
        if not sep:
            continue
        name = name.lower()
        if name == b"content-transfer-encoding" and value != b"binary":
            raise falcon.MultipartParseError(description="unsupported Content-Transfer-Encoding")
        if name in _CONTENT_HEADERS:
            headers[name] = value
    return headers
