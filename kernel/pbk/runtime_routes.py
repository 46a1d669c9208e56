"""``app.routes``: routes added and removed while the app runs (hook files' ``@route``).

falcon's router is compiled once and cannot forget a route, so these live beside it: the
requests falcon routes nowhere (and GETs on a build-time template whose resource has no GET)
reach ``dispatch``, which matches them here before falling back to ``pb_public``. The table is a
tuple replaced on every change, so a request in flight keeps the routes it matched.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

from .events import EventBus
from .http import _with_request_event as with_request_event

Responder = Callable[..., Awaitable[None]]
_FIELD = re.compile(r"^\{([A-Za-z_][A-Za-z0-9_]*)(\.\.\.)?\}$")
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "*")


class _RuntimeRoute:
    __slots__ = ("method", "pattern", "rank", "responder", "routes", "seq", "template")

    def __init__(self, routes: RuntimeRoutes, method: str, template: str, responder: Responder,
                 seq: int) -> None:
        self.routes = routes
        self.method = method
        self.template = template
        self.responder = responder
        self.seq = seq
        self.pattern, self.rank = _compile(template)

    def matches(self, method: str, path: str) -> dict[str, str] | None:
        if self.method not in ("*", method) and not (method == "HEAD" and self.method == "GET"):
            return None
        found = self.pattern.fullmatch(path)
        return found.groupdict() if found else None

    def remove(self) -> None:
        """Stop serving this route; removing twice is harmless."""
        self.routes._remove(self)

    @property
    def name(self) -> str:
        return f"{self.method} {self.template}"


def _compile(template: str) -> tuple[re.Pattern[str], tuple[int, int]]:
    """The path pattern of ``template`` and its rank (lower is more specific)."""
    if not template.startswith("/"):
        raise ValueError(f"route template {template!r} must start with '/'")
    segments = template[1:].split("/")
    parts: list[str] = []
    literals = 0
    rest = 0
    for index, segment in enumerate(segments):
        field = _FIELD.match(segment)
        if field is None:
            if "{" in segment or "}" in segment:
                raise ValueError(f"route template {template!r}: a field must be a whole segment")
            parts.append(re.escape(segment))
            literals += 1
        elif field.group(2):
            if index != len(segments) - 1:
                raise ValueError(f"route template {template!r}: '{segment}' must be the last segment")
            parts.append(f"(?P<{field.group(1)}>.*)")
            rest = 1
        else:
            parts.append(f"(?P<{field.group(1)}>[^/]+)")
    return re.compile("/" + "/".join(parts)), (-literals, rest)


def _sample_path(template: str) -> str:
    """A path ``template`` matches (each field an ``x``)."""
    return "/".join("x" if _FIELD.match(segment) else segment for segment in template.split("/"))


class RuntimeRoutes:
    """What the SDK's ``RuntimeRoutes`` promises, for one app (one worker)."""

    def __init__(self, events: EventBus) -> None:
        self._events = events
        self._routes: tuple[_RuntimeRoute, ...] = ()
        self._seq = 0
        self._served: Callable[[str, str], bool] = lambda method, path: False

    def refuse_served(self, served: Callable[[str, str], bool]) -> None:
        """``served(method, path)`` tells whether a build-time route answers: ``add`` refuses
        such a route, which would never be reached."""
        self._served = served

    def add(self, method: str, template: str, responder: Responder) -> _RuntimeRoute:
        method = method.upper()
        if method not in METHODS:
            raise ValueError(f"unknown HTTP method {method!r}")
        self._seq += 1
        route = _RuntimeRoute(self, method, template, responder, self._seq)
        if self._served(method, _sample_path(template)):
            raise ValueError(f"route {method} {template} is served by pbk; "
                             "hook routes cannot replace built-in routes")
        self._routes = tuple(sorted((*self._routes, route), key=lambda r: (r.rank, r.seq)))
        return route

    def _remove(self, route: _RuntimeRoute) -> None:
        self._routes = tuple(r for r in self._routes if r is not route)

    async def dispatch(self, req: Any, resp: Any) -> bool:
        """Answer ``req`` with the first route matching it; False when none does."""
        for route in self._routes:
            params = route.matches(req.method, req.path)
            if params is not None:
                await with_request_event(route.responder, self._events)(req, resp, **params)
                return True
        return False
