"""Counters kept in memory for PocketBase's limits: one mail per record per two minutes
(verification, password reset) and five failed OTP attempts per record per three minutes.

With several worker processes each key is kept by one worker, chosen by its hash, and asked
through ``app.cluster.call``, so a limit holds whichever worker a request reaches.
"""

from __future__ import annotations

import logging
import time
import zlib
from typing import Any

import orjson
from pbk_sdk import App
from pbk_sdk.errors import WorkerUnreachable
from pbk_sdk.interfaces import CollectionInfo
from pbk_sdk.state import StateKey

log = logging.getLogger("pbk.auth")

RESEND_THROTTLE = 120.0  # seconds between two verification / reset mails for one record
OTP_MAX_TRIES = 5  # failed attempts per record within OTP_TRY_WINDOW
OTP_TRY_WINDOW = 180.0
CHANNEL = "auth.counters"

Key = tuple[str, ...]


class Counters:
    """This worker's share of the counters (the keys that hash to it)."""

    def __init__(self) -> None:
        self.last_sent: dict[Key, float] = {}
        self.otp_tries: dict[Key, list[float]] = {}

    def throttle(self, key: Key) -> bool:
        """True if ``key`` was let through less than RESEND_THROTTLE ago; else count it now."""
        now = time.monotonic()
        if now - self.last_sent.get(key, -RESEND_THROTTLE) < RESEND_THROTTLE:
            return True
        self.last_sent[key] = now
        return False

    def otp_try(self, key: Key) -> float | None:
        """Count an attempt (its stamp), or None when OTP_MAX_TRIES are used up."""
        now = time.monotonic()
        tries = [t for t in self.otp_tries.get(key, []) if now - t < OTP_TRY_WINDOW]
        if len(tries) >= OTP_MAX_TRIES:
            self.otp_tries[key] = tries
            return None
        self.otp_tries[key] = [*tries, now]
        return now

    def otp_untry(self, key: Key, stamp: float) -> None:
        """A right guess takes its attempt back."""
        remaining = [t for t in self.otp_tries.get(key, []) if t != stamp]
        if remaining:
            self.otp_tries[key] = remaining
        else:
            self.otp_tries.pop(key, None)

    async def answer(self, worker: int, data: bytes) -> bytes:
        """A counter operation asked by ``counter`` (from this worker or another)."""
        operation, key, stamp = orjson.loads(data)
        if operation == "throttle":
            return orjson.dumps(self.throttle(tuple(key)))
        if operation == "otp_try":
            return orjson.dumps(self.otp_try(tuple(key)))
        self.otp_untry(tuple(key), stamp)
        return b"null"


COUNTERS: StateKey[Counters] = StateKey("auth.counters", lambda app: Counters())


def listen(app: App) -> None:
    """Answer the other workers' (and this one's) counter calls."""
    app.cluster.on_message(CHANNEL, app.state[COUNTERS].answer)


async def counter(app: App, operation: str, key: Key, stamp: float = 0.0) -> Any:
    """Run ``operation`` on the worker that keeps ``key`` (the only one, with one worker).
    Fails closed: a worker that cannot answer counts as a limit reached."""
    owner = zlib.crc32("\0".join(key).encode()) % app.cluster.workers
    try:
        return orjson.loads(
            await app.cluster.call(owner, CHANNEL, orjson.dumps([operation, key, stamp]))
        )
    except WorkerUnreachable:
        log.warning("the worker keeping auth counters did not answer; refusing %s", operation)
        return True if operation == "throttle" else None


async def throttled(app: App, kind: str, collection: CollectionInfo, record_id: str) -> bool:
    """Whether a ``kind`` mail went to this record less than RESEND_THROTTLE ago."""
    return bool(await counter(app, "throttle", (kind, collection.id, record_id)))
