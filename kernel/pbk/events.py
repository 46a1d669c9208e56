"""The runtime event bus behind ``app.events`` (PocketBase's ``tools/hook`` model).

Handlers live in per-name tuples that are replaced, never mutated, on ``on``/``remove``, so
a chain already running is not disturbed by handlers added or removed meanwhile (user hooks
hot-reload while requests are in flight). With no handler for a name, ``trigger`` costs one
dict lookup before it runs the default action.
"""

from __future__ import annotations

import inspect
import itertools
import logging
from collections.abc import Awaitable, Callable
from typing import Any, cast

from pbk_sdk.events import E, Event, Handler

log = logging.getLogger(__name__)


class _Registration:
    __slots__ = ("bus", "collections", "handler", "name", "priority", "seq")

    def __init__(
        self,
        bus: EventBus,
        name: str,
        handler: Handler,
        priority: int,
        collections: frozenset[str] | None,
        seq: int,
    ) -> None:
        self.bus = bus
        self.name = name
        self.handler = handler
        self.priority = priority
        self.collections = collections
        self.seq = seq

    def remove(self) -> None:
        """Take this handler off the bus; removing twice is harmless."""
        self.bus._remove(self)

    def __repr__(self) -> str:
        target = getattr(self.handler, "__qualname__", repr(self.handler))
        return f"<handler {target} on {self.name!r}>"


class EventBus:
    """Ordered, removable, collection-targeted async handler chains."""

    def __init__(self) -> None:
        self._handlers: dict[str, tuple[_Registration, ...]] = {}
        self._seq = itertools.count()

    def on(
        self,
        name: str,
        handler: Callable[[E], Awaitable[None]],
        *,
        priority: int = 0,
        collections: tuple[str, ...] | list[str] | None = None,
    ) -> _Registration:
        if not inspect.iscoroutinefunction(handler) and not (
            callable(handler) and inspect.iscoroutinefunction(type(handler).__call__)
        ):
            raise TypeError(f"event handlers must be async functions, got {handler!r}")
        registration = _Registration(
            self,
            name,
            cast(Handler, handler),  # the name's producer passes the class the handler expects
            priority,
            frozenset(collections) if collections else None,
            next(self._seq),
        )
        chain = self._handlers.get(name, ()) + (registration,)
        self._handlers[name] = tuple(sorted(chain, key=lambda r: (r.priority, r.seq)))
        return registration

    def _remove(self, registration: _Registration) -> None:
        chain = tuple(r for r in self._handlers.get(registration.name, ()) if r is not registration)
        if chain:
            self._handlers[registration.name] = chain
        else:
            self._handlers.pop(registration.name, None)

    def has(self, name: str) -> bool:
        return name in self._handlers

    def handlers(self, name: str) -> tuple[_Registration, ...]:
        return self._handlers.get(name, ())

    async def trigger(
        self,
        name: str,
        event: Event,
        default: Callable[[Any], Awaitable[Any]] | None = None,
    ) -> Event:
        chain = self._handlers.get(name)
        if not chain:
            if default is not None:
                await default(event)
            return event
        targets = event.targets()
        if any(r.collections is not None for r in chain):
            chain = tuple(
                r for r in chain if r.collections is None or not r.collections.isdisjoint(targets)
            )
        event._chain = chain
        event._position = 0
        event._default = default
        event._default_ran = False
        await event.next()
        if event._position <= len(chain) and not event.answered():
            stopper = chain[event._position - 1] if event._position else None
            log.warning(
                "%r stopped the %r chain without calling e.next() or answering; "
                "the default action did not run",
                stopper,
                name,
            )
        return event
