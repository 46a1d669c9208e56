"""Reading a realtime stream (``GET /api/realtime``) in tests."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any


async def sse_events(lines: AsyncIterator[str]) -> AsyncIterator[tuple[str, Any]]:
    """``(event, data)`` of a stream's lines (``httpx``'s ``aiter_lines()``), data parsed."""
    event = ""
    async for line in lines:
        if line.startswith("event:"):
            event = line[len("event:"):]
        elif line.startswith("data:"):
            yield event, json.loads(line[len("data:"):])
