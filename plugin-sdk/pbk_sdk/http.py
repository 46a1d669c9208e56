"""Request helpers shared by every plugin that reads a body."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from .errors import ApiError

#: Where the kernel keeps the request's ``BodyLimit`` in the ASGI scope.
BODY_LIMIT_SCOPE_KEY = "pbk.body_limit"


class BodyLimit:
    """Counts request body bytes as they arrive and answers 413 past ``max_bytes``.

    The kernel applies ``--maxBodySize``-style defaults (32 MiB, as PocketBase); a responder
    that accepts more (record create with large file fields) raises it with
    ``set_body_limit(req, n)`` before reading the body.
    """

    __slots__ = ("content_length", "max_bytes", "received")

    def __init__(self, max_bytes: int, content_length: int | None = None) -> None:
        self.max_bytes = max_bytes
        self.content_length = content_length
        self.received = 0

    def wrap(self, receive: Callable[[], Awaitable[dict[str, Any]]]) -> Callable[[], Awaitable[dict[str, Any]]]:
        async def limited_receive() -> dict[str, Any]:
            message = await receive()
            if message["type"] == "http.request":
                self.received += len(message.get("body", b""))
                too_long = self.content_length is not None and self.content_length > self.max_bytes
                if too_long or self.received > self.max_bytes:
                    raise ApiError(413)
            return message

        return limited_receive


def set_body_limit(req: Any, max_bytes: int) -> None:
    """Allow this request's body up to ``max_bytes`` (call before reading it)."""
    limit = req.scope.get(BODY_LIMIT_SCOPE_KEY)
    if limit is not None:
        limit.max_bytes = max_bytes
