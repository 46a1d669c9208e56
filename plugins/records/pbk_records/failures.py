"""The ``*_after_*_error`` events: fired once a failed change is undone."""

from __future__ import annotations

import logging

from pbk_sdk.events import Event, EventBus
from pbk_sdk.interfaces import Database

log = logging.getLogger(__name__)


async def after_failure(db: Database, events: EventBus, name: str, event: Event) -> None:
    """Fire ``name`` with ``event`` now, or when the transaction around the failed change (a
    batch's, an import's) rolls back; what a handler raises is logged (the change failed
    already, and its caller has the error)."""
    if not events.has(name, event.target_collection()):
        return

    async def fire() -> None:
        try:
            await events.trigger(name, event)
        except Exception:
            log.exception("a %s handler failed", name)

    if db.in_transaction:
        db.after_rollback(fire)
    else:
        await fire()
