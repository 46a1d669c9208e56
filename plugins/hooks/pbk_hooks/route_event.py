"""The event a hook file's route handler and its middlewares receive (PocketBase's
``core.RequestEvent`` in ``routerAdd``): the request, the answer helpers, ``next()``."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from pbk_sdk.auth import RequestAuth, request_auth
from pbk_sdk.errors import BadRequestError
from pbk_sdk.events import RequestEvent


@dataclass(eq=False)
class RouteEvent(RequestEvent):
    """``request``/``response`` are falcon's, ``params`` the template's fields, ``app`` the app.

    A middleware calls ``await e.next()`` to run the rest (the next middleware, at the end the
    handler) and may act before and after it, or answer itself and not call it.
    """

    app: Any = None
    steps: tuple[Callable[[Any], Awaitable[None]], ...] = field(default=(), repr=False)
    _step: int = field(default=0, repr=False)

    async def next(self) -> None:
        step = self._step
        if step < len(self.steps):
            self._step = step + 1
            await self.steps[step](self)

    @property
    def auth(self) -> RequestAuth | None:
        """Who makes the request (``auth.record``, ``auth.collection_name``), None for a guest."""
        return request_auth(self.request)

    @property
    def query(self) -> dict[str, str]:
        """The query string's parameters (the first value of each)."""
        return {key: value if isinstance(value, str) else value[0]
                for key, value in self.request.params.items()}

    async def body(self) -> Any:
        """The request's JSON body (``{}`` when empty); 400 when it is not JSON."""
        raw = await self.request.stream.read()
        if not raw:
            return {}
        try:
            return json.loads(raw)
        except ValueError:
            raise BadRequestError("Failed to read the request body.") from None

    def json(self, status: int, data: Any) -> None:
        self.response.status = status
        self.response.media = data

    def string(self, status: int, text: str) -> None:
        self.response.status = status
        self.response.content_type = "text/plain; charset=utf-8"
        self.response.text = text

    def html(self, status: int, text: str) -> None:
        self.response.status = status
        self.response.content_type = "text/html; charset=utf-8"
        self.response.text = text

    def no_content(self, status: int = 204) -> None:
        self.response.status = status
        self.response.data = b""
