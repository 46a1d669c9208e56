"""``send()`` against real loopback servers: its timeout bounds the whole exchange."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
from pbk_hooks import send


@pytest.fixture
async def trickling_url() -> AsyncIterator[str]:
    """A server that answers one byte every 0.1 s, never finishing its body."""

    async def trickle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n")
        try:
            while True:
                writer.write(b".")
                await writer.drain()
                await asyncio.sleep(0.1)
        except ConnectionError:
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(trickle, "127.0.0.1", 0)
    async with server:
        yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/slow"
        server.close()


async def test_the_timeout_bounds_a_trickling_answer(trickling_url: str) -> None:
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        await send("GET", trickling_url, timeout=1)
    assert time.monotonic() - started < 2


async def test_only_http_urls(tmp_path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("secret")
    with pytest.raises(ValueError, match="http and https URLs only"):
        await send("GET", secret.as_uri())
