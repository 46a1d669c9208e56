"""The runtime event bus behind ``app.events`` (PocketBase's ``tools/hook`` model).

Handlers live in per-name tuples that are replaced, never mutated, on ``on``/``remove``, so
a chain already running is not disturbed by handlers added or removed meanwhile (user hooks
hot-reload while requests are in flight). With no handler for a name, ``trigger`` costs one
dict lookup before it runs the default action.

A handler may be limited to some collections, by name or id or by a predicate over the
collection. Which handlers of a chain a collection gets is worked out once per collection
object (the records plugin loads new ones whenever the schema changes, in any worker) and
kept until that object goes or the chain changes, so a producer that asks ``has(name,
collection)`` before every write pays one cached lookup.
"""

from __future__ import annotations

import inspect
import itertools
import logging
import weakref
from collections.abc import Awaitable, Callable
from typing import Any, cast

from pbk_sdk.events import E, Event, Handler

log = logging.getLogger(__name__)

Chain = tuple["_Registration", ...]


class _Registration:
    __slots__ = ("bus", "collections", "handler", "name", "predicate", "priority", "seq")

    def __init__(
        self,
        bus: EventBus,
        name: str,
        handler: Handler,
        priority: int,
        collections: frozenset[str] | None,
        predicate: Callable[[Any], bool] | None,
        seq: int,
    ) -> None:
        self.bus = bus
        self.name = name
        self.handler = handler
        self.priority = priority
        self.collections = collections
        self.predicate = predicate
        self.seq = seq

    @property
    def targeted(self) -> bool:
        return self.collections is not None or self.predicate is not None

    def admits(self, collection: Any) -> bool:
        """Whether this handler runs for events about ``collection`` (a ``CollectionInfo``)."""
        if self.predicate is not None:
            return bool(self.predicate(collection))
        return self.collections is None or collection.id in self.collections or collection.name in self.collections

    def admits_targets(self, targets: tuple[str, ...]) -> bool:
        """Whether this handler runs for an event that names its subject only (``targets()``)."""
        if self.predicate is not None:
            return False
        return self.collections is None or not self.collections.isdisjoint(targets)

    def remove(self) -> None:
        """Take this handler off the bus; removing twice is harmless."""
        self.bus._remove(self)

    def __repr__(self) -> str:
        target = getattr(self.handler, "__qualname__", repr(self.handler))
        return f"<handler {target} on {self.name!r}>"


class EventBus:
    """Ordered, removable, collection-targeted async handler chains."""

    def __init__(self) -> None:
        self._handlers: dict[str, Chain] = {}
        #: Per name whose chain has a targeted handler: the chain each collection gets, with
        #: the ``fields`` object it was worked out for (a collection whose field list was
        #: replaced is asked again).
        self._per_collection: dict[str, weakref.WeakKeyDictionary[Any, tuple[Any, Chain]]] = {}
        self._seq = itertools.count()

    def on(
        self,
        name: str,
        handler: Callable[[E], Awaitable[None]],
        *,
        priority: int = 0,
        collections: tuple[str, ...] | list[str] | Callable[[Any], bool] | None = None,
    ) -> _Registration:
        if not inspect.iscoroutinefunction(handler) and not (
            callable(handler) and inspect.iscoroutinefunction(type(handler).__call__)
        ):
            raise TypeError(f"event handlers must be async functions, got {handler!r}")
        predicate = collections if callable(collections) else None
        names = None if predicate is not None or not collections else frozenset(cast(list[str], collections))
        registration = _Registration(
            self,
            name,
            cast(Handler, handler),  # the name's producer passes the class the handler expects
            priority,
            names,
            predicate,
            next(self._seq),
        )
        chain = self._handlers.get(name, ()) + (registration,)
        self._replace(name, tuple(sorted(chain, key=lambda r: (r.priority, r.seq))))
        return registration

    def _remove(self, registration: _Registration) -> None:
        chain = tuple(r for r in self._handlers.get(registration.name, ()) if r is not registration)
        self._replace(registration.name, chain)

    def _replace(self, name: str, chain: Chain) -> None:
        if chain:
            self._handlers[name] = chain
        else:
            self._handlers.pop(name, None)
        if any(r.targeted for r in chain):
            self._per_collection[name] = weakref.WeakKeyDictionary()
        else:
            self._per_collection.pop(name, None)

    def has(self, name: str, collection: Any = None) -> bool:
        """Whether any handler listens to ``name`` (about ``collection``, when given)."""
        chain = self._handlers.get(name)
        if not chain or collection is None:
            return bool(chain)
        return bool(self._chain_for(name, chain, collection))

    def handlers(self, name: str) -> Chain:
        return self._handlers.get(name, ())

    def _chain_for(self, name: str, chain: Chain, collection: Any) -> Chain:
        """The handlers of ``chain`` that run for events about ``collection``."""
        cache = self._per_collection.get(name)
        if cache is None:
            return chain
        fields = getattr(collection, "fields", None)
        try:
            known = cache.get(collection)
        except TypeError:  # neither hashable nor weakly referable: worked out every time
            return tuple(r for r in chain if r.admits(collection))
        if known is not None and known[0] is fields:
            return known[1]
        admitted = tuple(r for r in chain if r.admits(collection))
        cache[collection] = (fields, admitted)
        return admitted

    async def trigger(
        self,
        name: str,
        event: Event,
        default: Callable[[Any], Awaitable[Any]] | None = None,
    ) -> Event:
        chain = self._handlers.get(name)
        if chain and name in self._per_collection:
            collection = event.target_collection()
            if collection is not None:
                chain = self._chain_for(name, chain, collection)
            else:
                targets = event.targets()
                chain = tuple(r for r in chain if r.admits_targets(targets))
        if not chain:
            if default is not None:
                await default(event)
            return event
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
