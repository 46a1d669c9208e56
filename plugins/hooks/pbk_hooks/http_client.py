"""``send``: an HTTP client for hook files (PocketBase's ``$http.send``), on httpx's async
client, so the event loop never waits on the network and no thread pool is held."""

from __future__ import annotations

import asyncio
import json as jsonlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit


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
    """Send one request and return the answer, whatever its status. ``timeout`` bounds the whole
    exchange (a server sending its answer a byte at a time too); an unreachable host or a
    timeout raises ``OSError`` (``TimeoutError``). ``json`` sends a JSON body, ``body`` raw
    bytes or text. Only ``http`` and ``https`` URLs (``ValueError`` otherwise)."""
    import httpx  # on the first send(), not at every worker's start

    if urlsplit(url).scheme.lower() not in ("http", "https"):
        raise ValueError(f"send() fetches http and https URLs only, not {url!r}")
    sent_headers = dict(headers or {})
    data = body.encode() if isinstance(body, str) else body
    if json is not None:
        data = jsonlib.dumps(json).encode()
        sent_headers.setdefault("Content-Type", "application/json")
    try:
        async with asyncio.timeout(timeout), httpx.AsyncClient(timeout=timeout, follow_redirects=True) as client:
            answer = await client.request(method.upper(), url, content=data, headers=sent_headers)
    except httpx.TimeoutException as exc:
        raise TimeoutError(f"{method.upper()} {url} took longer than {timeout} s") from exc
    except httpx.TransportError as exc:
        raise OSError(f"{method.upper()} {url} failed: {type(exc).__name__}: {exc}") from exc
    return HttpResponse(answer.status_code, dict(answer.headers.items()), answer.content)
