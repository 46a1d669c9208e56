"""``send``: an HTTP client for hook files (PocketBase's ``$http.send``), on the standard
library in a thread so the event loop never waits on the network."""

from __future__ import annotations

import asyncio
import json as jsonlib
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class HttpResponse:
    status: int
    headers: Mapping[str, str]
    body: bytes

    def json(self) -> Any:
        return jsonlib.loads(self.body)


async def send(
    method: str,
    url: str,
    *,
    json: Any = None,
    body: bytes | str | None = None,
    headers: Mapping[str, str] | None = None,
    timeout: float = 120,
) -> HttpResponse:
    """Send one request and return the answer, whatever its status (an unreachable host or a
    timeout raises ``OSError``). ``json`` sends a JSON body, ``body`` raw bytes or text."""
    sent_headers = dict(headers or {})
    data = body.encode() if isinstance(body, str) else body
    if json is not None:
        data = jsonlib.dumps(json).encode()
        sent_headers.setdefault("Content-Type", "application/json")
    request = urllib.request.Request(url, data=data, headers=sent_headers, method=method.upper())
    return await asyncio.to_thread(_exchange, request, timeout)


def _exchange(request: urllib.request.Request, timeout: float) -> HttpResponse:
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            return HttpResponse(answer.status, dict(answer.headers.items()), answer.read())
    except urllib.error.HTTPError as error:
        with error:
            return HttpResponse(error.code, dict(error.headers.items()), error.read())
