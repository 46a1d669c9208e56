"""Turning captured entries into ``_logs`` rows; runs on the writer thread, never per request.

The request path only captures a tuple (``RequestEntry``); the JSON ``data`` PocketBase stores
(keys sorted, as Go writes a map) is built here, in the background flush.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from typing import Any, NamedTuple
from urllib.parse import unquote

import orjson
from pbk_sdk.ids import new_id

INFO = 0
ERROR = 8
#: PocketBase cuts these request values (``cutStr``), marking the cut with ``...``.
MAX_METHOD, MAX_URL, MAX_HEADER = 50, 3000, 2000
_BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")
INSERT = "INSERT INTO `_logs` (id, level, message, data, created) VALUES (?, ?, ?, ?, ?)"


class RequestEntry(NamedTuple):
    """What a finished request leaves behind: plain values, nothing computed yet."""

    created: float
    exec_ms: float
    method: str
    url: str
    status: int
    failed: bool
    envelope: Any  # the error answer's ``{message, data}`` when ``failed``
    auth: str
    auth_id: str | None  # None: not logged (``logAuthId`` off or a guest)
    ip: str | None  # None: not logged (``logIP`` off)
    referer: str
    user_agent: str


class AppEntry(NamedTuple):
    """A ``logging`` record, already mapped to PocketBase's level."""

    created: float
    level: int
    message: str
    data: Mapping[str, Any]


def timestamp(created: float) -> str:
    """PocketBase's ``created``: ``2006-01-02 15:04:05.000Z`` in UTC."""
    millis = int(created * 1000) % 1000
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(created)) + f".{millis:03d}Z"


def cut(text: str, limit: int) -> str:
    return text[:limit] + "..." if len(text) > limit else text


def request_message(method: str, url: str) -> str:
    """``METHOD url`` with the URL unescaped as Go's ``PathUnescape`` does (raw if invalid)."""
    if "%" in url and not _BAD_ESCAPE.search(url):
        url = unquote(url, errors="replace")
    return f"{method} {url}"


def error_details(data: Any) -> Any:
    """PocketBase logs an error's raw data: validation errors as ``{field: "message"}`` in
    the validator's lower case, nothing (null) when there are none."""
    if not isinstance(data, Mapping) or not data:
        return None
    out: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, Mapping) and isinstance(value.get("message"), str):
            message = value["message"].rstrip(".")
            out[key] = message[:1].lower() + message[1:]
        else:
            out[key] = error_details(value) if isinstance(value, Mapping) else value
    return out


def request_data(entry: RequestEntry) -> dict[str, Any]:
    """PocketBase's request ``data`` keys."""
    data: dict[str, Any] = {
        "type": "request",
        "execTime": round(entry.exec_ms, 6),
        "url": entry.url,
        "method": entry.method,
        "status": entry.status,
        "referer": entry.referer,
        "userAgent": entry.user_agent,
        "auth": entry.auth,
    }
    if entry.failed:
        envelope = entry.envelope if isinstance(entry.envelope, Mapping) else {}
        data["error"] = str(envelope.get("message", ""))
        data["details"] = error_details(envelope.get("data"))
    if entry.auth_id is not None:
        data["authId"] = entry.auth_id
    if entry.ip is not None:
        data["userIP"] = entry.ip
        data["remoteIP"] = entry.ip
    return data


def row(entry: RequestEntry | AppEntry) -> tuple[str, int, str, str, str]:
    """The ``(id, level, message, data, created)`` row of one entry."""
    if isinstance(entry, RequestEntry):
        level = ERROR if entry.failed else INFO
        message = request_message(entry.method, entry.url)
        data: Mapping[str, Any] = request_data(entry)
    else:
        level, message, data = entry.level, entry.message, entry.data
    encoded = orjson.dumps(data, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS, default=str)
    return new_id(), level, message, encoded.decode(), timestamp(entry.created)


def insert_entries(conn: Any, entries: list[RequestEntry | AppEntry]) -> None:
    conn.executemany(INSERT, [row(entry) for entry in entries])
