"""PocketBase's stored file names and content sniffing.

A stored name is the snake-cased base of the client's name (at most 100 characters; shorter
than 3 gets 10 random characters appended) + ``_`` + 10 random ``[a-z0-9]`` + the cleaned
extension (double extensions such as ``.tar.gz`` kept; sniffed from the content when absent),
as ``tools/filesystem.normalizeName`` does.
"""

from __future__ import annotations

import mimetypes
import re

from pbk_sdk.ids import new_id

ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"
_EXT_INVALID = re.compile(r"[^\w.*\-+=#]+", re.ASCII)
_SNAKE_SPLIT = re.compile(r"[\W_]+", re.ASCII)
SNIFF_BYTES = 3072

#: Content types PocketBase serves ``inline`` (everything else is an attachment).
INLINE_TYPES = frozenset({
    "image/png", "image/jpg", "image/jpeg", "image/gif", "image/webp", "image/x-icon", "image/bmp",
    "video/webm", "video/mp4", "video/3gpp", "video/quicktime", "video/x-ms-wmv",
    "audio/basic", "audio/aiff", "audio/mpeg", "audio/midi", "audio/mp3", "audio/wave",
    "audio/wav", "audio/x-wav", "audio/x-mpeg", "audio/x-m4a", "audio/aac",
    "application/pdf", "application/x-pdf",
})

#: Leading bytes → (content type, extension).
_MAGIC: list[tuple[bytes, str, str]] = [
    (b"\x89PNG\r\n\x1a\n", "image/png", ".png"),
    (b"\xff\xd8\xff", "image/jpeg", ".jpg"),
    (b"GIF87a", "image/gif", ".gif"),
    (b"GIF89a", "image/gif", ".gif"),
    (b"%PDF-", "application/pdf", ".pdf"),
    (b"PK\x03\x04", "application/zip", ".zip"),
    (b"\x1f\x8b", "application/gzip", ".gz"),
    (b"BM", "image/bmp", ".bmp"),
    (b"\x00\x00\x01\x00", "image/x-icon", ".ico"),
    (b"OggS", "application/ogg", ".ogg"),
    (b"ID3", "audio/mpeg", ".mp3"),
    (b"\x1a\x45\xdf\xa3", "video/webm", ".webm"),
]


def random_string(length: int = 10) -> str:
    return new_id(length, ALPHABET)


def snakecase(text: str) -> str:
    """``inflector.Snakecase``: split at ASCII non-word characters, ``_`` before inner capitals."""
    out: list[str] = []
    for word in _SNAKE_SPLIT.split(text):
        if not word:
            continue
        if out:
            out.append("_")
        for i, char in enumerate(word):
            if char.isupper() and i > 0 and not word[i - 1].isupper():
                out.append("_")
            out.append(char)
    return "".join(out).lower()


def extract_extension(name: str) -> str:
    """The extension with its dot, double extensions included (``a.tar.gz`` → ``.tar.gz``)."""
    primary = name.rfind(".")
    if primary == -1:
        return ""
    secondary = name.rfind(".", 0, primary)
    return name[secondary:] if secondary >= 0 else name[primary:]


def base_name(client_name: str) -> str:
    """The last path segment of a client's file name (Go's ``filepath.Base`` on parts)."""
    name = client_name.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]
    return name or "file"


def stored_name(client_name: str, head: bytes = b"") -> str:
    """A fresh stored name for an upload called ``client_name`` whose content starts ``head``."""
    name = base_name(client_name)
    original_ext = extract_extension(name)
    ext = _EXT_INVALID.sub("", original_ext)
    if not ext or ext == ".":
        ext = sniff(head)[1]
    if len(ext) > 20:
        ext = "." + ext[-20:]
    if ext.lower() == ".attrs":
        ext = "_attrs"  # the local store keeps each file's attributes in "<name>.attrs"
    clean = snakecase(name[: len(name) - len(original_ext)] if original_ext else name)
    if len(clean) < 3:
        clean += random_string(10)
    elif len(clean) > 100:
        clean = clean[:100]
    return f"{clean}_{random_string(10)}{ext}"


def sniff(head: bytes, name: str = "") -> tuple[str, str]:
    """(content type, extension) from the first bytes, as PocketBase's mimetype detection does
    for the common types; UTF-8 text is ``text/plain; charset=utf-8``."""
    for magic, content_type, ext in _MAGIC:
        if head.startswith(magic):
            return content_type, ext
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp", ".webp"
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "audio/wav", ".wav"
    if head[4:8] == b"ftyp":
        return "video/mp4", ".mp4"
    stripped = head.lstrip()
    if stripped[:5].lower() == b"<?xml" or stripped[:4].lower() == b"<svg":
        if b"<svg" in head.lower():
            return "image/svg+xml", ".svg"
        return "text/xml; charset=utf-8", ".xml"
    if _is_text(head):
        if stripped[:1] in (b"{", b"[") and _is_json(head):
            return "application/json", ".json"
        return "text/plain; charset=utf-8", ".txt"
    return "application/octet-stream", ""


def _is_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # a multi-byte character cut at the end of the sniffed window is still text
        return exc.start >= len(head) - 3 and exc.reason == "unexpected end of data"
    return True


def _is_json(head: bytes) -> bool:
    import json

    try:
        json.loads(head)
    except ValueError:
        return False
    return True


def type_matches(detected: str, allowed: list[str]) -> bool:
    """PocketBase compares the sniffed type (not the client's) with each allowed type."""
    bare = detected.split(";", 1)[0].strip().lower()
    return any(a.split(";", 1)[0].strip().lower() == bare for a in allowed)


def guess_type(name: str) -> str:
    guessed = mimetypes.guess_type(name)[0]
    return guessed or "application/octet-stream"
