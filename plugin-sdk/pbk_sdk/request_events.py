"""``evented``: a route's responders run as the default action of request events.

PocketBase fires a request hook around most routes (``OnCollectionViewRequest``,
``OnRecordAuthWithPasswordRequest`` ...). A plugin gives them to its routes by wrapping the
resource: ``Route(template, evented(app, resource, {"on_post": BATCH_REQUEST}))``. With no
handler for the name, the responder runs as it is (one dict lookup).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from .events import CollectionRequestEvent
from .interfaces import RECORD_STORE, App

Responder = Callable[..., Awaitable[None]]


class _Evented:
    def __init__(self, resource: Any) -> None:
        self._resource = resource

    def __repr__(self) -> str:
        return f"evented({self._resource!r})"


def evented(app: App, resource: Any, names: Mapping[str, str]) -> Any:
    """``resource`` with each responder ``names`` maps (``{"on_get": NAME}``) run inside the
    event ``NAME``; other responders are kept as they are."""
    wrapper = _Evented(resource)
    for attribute in dir(resource):
        if attribute.startswith("on_"):
            responder = getattr(resource, attribute)
            name = names.get(attribute)
            setattr(wrapper, attribute, responder if name is None else _in_event(app, name, responder))
    return wrapper


def _in_event(app: App, name: str, responder: Responder) -> Responder:
    async def respond(req: Any, resp: Any, **params: Any) -> None:
        if not app.events.has(name):
            await responder(req, resp, **params)
            return

        async def default(_: CollectionRequestEvent) -> None:
            await responder(req, resp, **params)

        event = CollectionRequestEvent(request=req, response=resp, params=params,
                                       collection=_collection(app, params.get("collection")))
        await app.events.trigger(name, event, default)

    return respond


def _collection(app: App, id_or_name: str | None) -> Any:
    if not id_or_name:
        return None
    try:
        return app.services.get(RECORD_STORE, "sqlite").collection(id_or_name)
    except LookupError:  # no records plugin: no collections
        return None
