"""Writes every runtime event a ``pbk serve`` process fires to ``$PBK_EVENT_LOG``, one a line.

``tests/test_event_order.py`` loads this folder with ``--pluginsDir`` and compares the lines with
the sequences in ``docs/hooks.md``. A line is the event name, what it is about (a request's
method and route template, a record's or collection's name, a mail's template) and
``(in transaction)`` when ``data.db`` has a transaction open while the event fires.

So that the ``collection_after_*_error`` events can be seen, it also refuses a collection change
whose collection has a field named ``refuse_create``, ``refuse_update`` or ``refuse_delete``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pbk_sdk import PluginInfo, events, hookimpl, priorities
from pbk_sdk.errors import ApiError
from pbk_sdk.events import (
    CollectionEvent,
    MailEvent,
    RealtimeMessageEvent,
    RecordAuthEvent,
    RecordEnrichEvent,
    RecordEvent,
    RecordRequestEvent,
    RequestEvent,
)

PLUGIN = PluginInfo(name="event_recorder", description="Logs every event (tests/test_event_order.py).")

EVENT_NAMES = tuple(
    value for name, value in vars(events).items() if name.isupper() and isinstance(value, str)
)


def describe(name: str, event: Any, in_transaction: bool) -> str:
    parts = [name]
    if isinstance(event, RequestEvent):
        parts += [event.request.method, event.request.uri_template or event.request.path]
    elif isinstance(event, RecordEvent | RecordRequestEvent | CollectionEvent | RecordAuthEvent | RecordEnrichEvent):
        parts.append(event.collection.name)
    elif isinstance(event, RealtimeMessageEvent):
        parts.append(event.name)
    elif isinstance(event, MailEvent):
        parts.append(str(event.meta.get("template", "")))
    if in_transaction:
        parts.append("(in transaction)")
    return " ".join(parts)


@hookimpl
def pbk_startup(app: Any) -> None:
    log = Path(os.environ["PBK_EVENT_LOG"])

    def recorder(name: str) -> Any:
        async def record(event: Any) -> None:
            # NOTE: a blocking append, so the line is there before the next event's.
            with log.open("a") as out:  # noqa: ASYNC230
                out.write(describe(name, event, app.db.in_transaction) + "\n")
            await event.next()

        return record

    for name in EVENT_NAMES:
        app.events.on(name, recorder(name), priority=priorities.OBSERVE)
    for action in ("create", "update", "delete"):
        app.events.on(f"collection_{action}", refuser(f"refuse_{action}"))


def refuser(field: str) -> Any:
    async def refuse(event: CollectionEvent) -> None:
        if any(f["name"] == field for f in event.collection.to_json()["fields"]):
            raise ApiError(400, f"Refused by the event recorder ({field}).")
        await event.next()

    return refuse
