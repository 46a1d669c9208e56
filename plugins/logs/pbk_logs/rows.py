"""Turning captured entries into ``_logs`` rows; runs on the writer thread, never per request.

The request path only captures a tuple (``RequestEntry``); the JSON ``data`` PocketBase stores
(keys sorted, as Go writes a map) is built here, in the background flush.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import re
import secrets
import string
import time
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple
from urllib.parse import unquote

import orjson

from .limits import fit_data, fit_message

log = logging.getLogger(__name__)

INFO = 0
ERROR = 8
#: PocketBase cuts these request values (``cutStr``), marking the cut with ``...``.
MAX_METHOD, MAX_URL, MAX_HEADER = 50, 3000, 2000
_BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")
_ID_ALPHABET = string.digits + string.ascii_lowercase  # in ASCII order, so ids sort by time
_BASE36_PAIRS = [a + b for a in _ID_ALPHABET for b in _ID_ALPHABET]  # "00" .. "zz", 1296
_SEQUENCE = 36**6
_DATA_OPTIONS = orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS
#: A lone surrogate (``"\udc80"``, what ``surrogateescape`` leaves of a stray byte) has no UTF-8.
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
#: A whole batch in one statement, its rows one JSON array: SQLite runs it in a single step
#: (the writer thread lets go of the GIL once per batch rather than once per row).
INSERT = (
    "INSERT INTO `_logs` (id, level, message, data, created) "
    "SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4 FROM json_each(?)"
)
#: The same on PostgreSQL, typed there (``data`` is the JSON text of the row's fourth item).
INSERT_POSTGRES = (
    'INSERT INTO "_logs" (id, level, message, data, created) '
    "SELECT v ->> 0, (v ->> 1)::integer, v ->> 2, (v ->> 3)::json, v ->> 4 FROM json_array_elements(?::json) AS v"
)
#: PostgreSQL's text cannot hold NUL: ``\u0000`` in the batch's JSON (a NUL in a message, or
#: escaped once more in ``data``'s text) becomes U+FFFD, as other unstorable text does.
_JSON_NUL, _JSON_REPLACEMENT = rb"\u0000", rb"\ufffd"


#: What a finished request leaves behind, as a plain tuple of plain values (which Python's
#: garbage collector soon stops tracking, so thousands waiting cost it little):
#: ``(created, exec_ms, method, raw_path, query_string, referer, user_agent, ips, status,
#: failed, envelope, auth, auth_id)``, ``ips`` being ``(remote_ip, user_ip)``. ``ips`` and ``auth_id`` are None when not logged
#: (``logIP`` off; ``logAuthId`` off or a guest); ``envelope`` is the error answer's
#: ``{message, data}`` when ``failed``.
RequestEntry = tuple[float, float, str, bytes, bytes, str, str, str | None, int, bool, Any, str, str | None]


class AppEntry(NamedTuple):
    """A ``logging`` record, already mapped to PocketBase's level."""

    created: float
    level: int
    message: str
    data: Mapping[str, Any]


def log_ids(count: int, now: float) -> list[str]:
    """``count`` distinct ids in PocketBase's shape (15 characters of ``[a-z0-9]``): the time
    ``now`` in milliseconds as 9 base-36 digits, then a 6-digit base-36 sequence from a random
    start, so no two ids of a batch can collide (two batches would have to share the
    millisecond and overlap in a range of 36**6).

    PocketBase's ids are all random; these sort by time, so a batch lands at the end of the
    primary-key index instead of on a random page per row, which halves the cost of writing it.
    """
    if count > _SEQUENCE // 2:
        raise ValueError(f"at most {_SEQUENCE // 2} ids at once")
    prefix = _base36(int(now * 1000), 9)
    first = secrets.randbelow(_SEQUENCE - count)
    pairs = _BASE36_PAIRS
    return [
        prefix + pairs[n // 1679616] + pairs[n // 1296 % 1296] + pairs[n % 1296]
        for n in range(first, first + count)
    ]


def _base36(number: int, width: int) -> str:
    digits = []
    for _ in range(width):
        number, digit = divmod(number, 36)
        digits.append(_ID_ALPHABET[digit])
    return "".join(reversed(digits))


def timestamp(created: float) -> str:
    """PocketBase's ``created``: ``2006-01-02 15:04:05.000Z`` in UTC."""
    millis = int(created * 1000) % 1000
    return f"{_second(int(created))}.{millis:03d}Z"


@functools.lru_cache(maxsize=4)
def _second(seconds: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(seconds))


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


def request_url(raw_path: bytes, query: bytes) -> str:
    """The request URI as the client sent it (path still escaped, then the query)."""
    path = raw_path.decode("latin-1")
    return f"{path}?{query.decode('latin-1')}" if query else path


def request_fields(entry: RequestEntry) -> tuple[str, str, dict[str, Any]]:
    """The method, URL and PocketBase's ``data`` of a request entry."""
    _, exec_ms, method, raw_path, query, referer, user_agent, ips, status, failed, envelope, auth, auth_id = entry
    method = cut(method.upper(), MAX_METHOD)
    url = cut(request_url(raw_path, query), MAX_URL)
    data: dict[str, Any] = {
        "type": "request",
        "execTime": round(exec_ms, 6),
        "url": url,
        "method": method,
        "status": status,
        "referer": cut(referer, MAX_HEADER),
        "userAgent": cut(user_agent, MAX_HEADER),
        "auth": auth,
    }
    if failed:
        error = envelope if isinstance(envelope, Mapping) else {}
        data["error"] = str(error.get("message", ""))
        data["details"] = error_details(error.get("data"))
    if auth_id is not None:
        data["authId"] = auth_id
    if ips is not None:
        data["remoteIP"], data["userIP"] = ips
    return method, url, data


def row(entry: RequestEntry | AppEntry, log_id: str, max_data_size: int) -> tuple[str, int, str, str, str]:
    """The ``(id, level, message, data, created)`` row of one entry, within PocketBase's
    limits (``max_data_size`` is ``logs.maxDataSize``)."""
    data: Mapping[str, Any]
    if isinstance(entry, AppEntry):
        level, message, data = entry.level, entry.message, entry.data
    else:
        level = ERROR if entry[9] else INFO
        method, url, data = request_fields(entry)
        message = request_message(method, url)
    return log_id, level, fit_message(message), fit_data(encode_data(data), max_data_size), timestamp(entry[0])


def storable_text(text: str) -> str:
    """``text`` with each lone surrogate as U+FFFD, which UTF-8 (and so JSON) can hold."""
    return _LONE_SURROGATE.sub("\ufffd", text)


def encode_data(data: Mapping[str, Any]) -> str:
    """``data`` as JSON; a value JSON cannot hold (nested too deep, a lone surrogate) is
    stored as its ``repr`` instead, or left out if even that fails, and said once."""
    try:
        return orjson.dumps(data, option=_DATA_OPTIONS, default=str).decode()
    except orjson.JSONEncodeError:
        pass
    kept: dict[str, Any] = {}
    replaced: list[str] = []
    for key, value in data.items():
        name = storable_text(str(key))
        try:
            orjson.dumps(value, option=_DATA_OPTIONS, default=str)
            kept[name] = value
        except orjson.JSONEncodeError:
            replaced.append(name)
            with contextlib.suppress(Exception):  # too deep even for repr, or a failing __repr__
                kept[name] = storable_text(value if isinstance(value, str) else repr(value))
    log.warning("log data values %s are not JSON: stored as text, or left out", replaced)
    return orjson.dumps(kept, option=_DATA_OPTIONS, default=str).decode()


def insert_entries(conn: Any, entries: list[RequestEntry | AppEntry], max_data_size: int = 0) -> None:
    conn.execute(INSERT, (_batch(entries, max_data_size).decode(),))


def insert_entries_postgres(conn: Any, entries: list[RequestEntry | AppEntry], max_data_size: int = 0) -> None:
    batch = _batch(entries, max_data_size)
    conn.execute(INSERT_POSTGRES, (batch.replace(_JSON_NUL, _JSON_REPLACEMENT).decode(),))


def inserter(engine: str) -> Callable[[Any, list[RequestEntry | AppEntry], int], None]:
    """The function that writes a batch of entries on ``engine``'s connection."""
    return insert_entries_postgres if engine == "postgresql" else insert_entries


def _batch(entries: list[RequestEntry | AppEntry], max_data_size: int) -> bytes:
    """The rows of ``entries`` as one JSON array."""
    rows = [row(entry, log_id, max_data_size) for entry, log_id in zip(entries, log_ids(len(entries), time.time()), strict=True)]
    try:
        batch = orjson.dumps(rows)
    except orjson.JSONEncodeError:  # a message with a lone surrogate: it alone is changed
        batch = orjson.dumps([(*fields[:2], storable_text(fields[2]), *fields[3:]) for fields in rows])
    return batch
