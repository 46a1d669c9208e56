"""What a hook file (``pb_hooks/*.pb.py``) uses: PocketBase's JS hooks in Python.

``@on(name)`` is ``onRecordCreate(...)`` and its kin, ``@route`` is ``routerAdd``, ``@cron`` is
``cronAdd``; the file also sees ``app`` (PocketBase's ``$app``) as a global. The decorators
register through the same event bus, routes and cron jobs plugins use, and only while their
file loads. See docs/hooks.md, "Hook files".
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from pbk_sdk import events
from pbk_sdk.auth import SUPERUSERS, request_auth
from pbk_sdk.cron import parse as parse_cron
from pbk_sdk.errors import (
    ApiError,
    BadRequestError,
    ForbiddenError,
    NotFoundError,
    UnauthorizedError,
)
from pbk_sdk.events import Event

from .http_client import HttpResponse, send
from .registry import CronHook, EventHook, RouteHook, current
from .route_event import RouteEvent

__all__ = [
    "ApiError", "BadRequestError", "Event", "ForbiddenError", "HttpResponse", "NotFoundError",
    "RouteEvent", "UnauthorizedError", "cron", "on", "require_auth", "require_superuser_auth",
    "route", "send",
]

F = TypeVar("F", bound=Callable[..., Awaitable[None]])
#: The events the SDK names; a plugin may fire others, so another name is only warned about.
KNOWN_EVENTS = frozenset(value for key, value in vars(events).items() if key.isupper() and isinstance(value, str))
log = logging.getLogger(__name__)
Middleware = Callable[[RouteEvent], Awaitable[None]]


def on(name: str, *, collections: Sequence[str] | None = None, priority: int = 0) -> Callable[[F], F]:
    """Handle the event ``name`` (``record_create``, ``pbk_sdk.events.RECORD_CREATE``), for
    some collections only when ``collections`` names them: ``onRecordCreate(fn, "posts")``.
    The handler is ``async def h(e)`` and calls ``await e.next()`` as a plugin's does."""

    if name not in KNOWN_EVENTS:
        log.warning("@on(%r): no pbk event has that name (see docs/hooks.md, Events)", name)

    def register(handler: F) -> F:
        _check_async(handler)
        current().events.append(EventHook(name, handler, tuple(collections or ()) or None, priority))
        return handler

    return register


def route(method: str, template: str, *, middlewares: Sequence[Middleware] = ()) -> Callable[[F], F]:
    """Serve ``method`` at ``template`` (``/hello/{name}``, ``/files/{path...}``):
    ``routerAdd``. The handler is ``async def h(e: RouteEvent)``; middlewares run first, each
    calling ``await e.next()``."""

    def register(handler: F) -> F:
        for step in (*middlewares, handler):
            _check_async(step)
        current().routes.append(RouteHook(method.upper(), template, handler, tuple(middlewares)))
        return handler

    return register


def cron(job_id: str, expression: str) -> Callable[[F], F]:
    """Run ``async def job()`` at PocketBase's cron ``expression`` (``*/5 * * * *``,
    ``@hourly``), once for all workers: ``cronAdd``. A bad expression fails the file."""
    parse_cron(expression)

    def register(job: F) -> F:
        _check_async(job)
        current().crons.append(CronHook(job_id, expression, job))
        return job

    return register


def require_auth(*collections: str) -> Middleware:
    """A middleware that lets through only requests authenticated with a record (of one of
    ``collections``, by name, when named): ``$apis.requireAuth()``."""

    async def check(e: RouteEvent) -> None:
        auth = request_auth(e.request)
        if auth is None:
            raise UnauthorizedError("The request requires valid record authorization token.")
        if collections and auth.collection_name not in collections:
            raise ForbiddenError("The authorized record is not allowed to perform this action.")
        await e.next()

    return check


def require_superuser_auth() -> Middleware:
    """A middleware that lets through superusers only: ``$apis.requireSuperuserAuth()``."""
    return require_auth(SUPERUSERS)


def _check_async(fn: Any) -> None:
    if not inspect.iscoroutinefunction(fn):
        raise TypeError(f"{getattr(fn, '__name__', fn)!r} must be async def")
