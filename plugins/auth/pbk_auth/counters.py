"""PocketBase's limits on mails and one-time codes: one mail per record per two minutes
(verification, password reset) and five failed OTP attempts per record per three minutes.

They are ``app.cluster``'s fixed-window counters (``consume``), so a limit holds whichever
worker, and whichever node sharing a PostgreSQL database, a request reaches.
"""

from __future__ import annotations

from pbk_sdk import App
from pbk_sdk.interfaces import CollectionInfo

RESEND_THROTTLE = 120  # seconds between two verification / reset mails for one record
OTP_MAX_TRIES = 5  # failed attempts per record within OTP_TRY_WINDOW
OTP_TRY_WINDOW = 180


async def throttled(app: App, kind: str, collection: CollectionInfo, record_id: str) -> bool:
    """Whether a ``kind`` mail went to this record less than RESEND_THROTTLE ago; else this one
    counts as sent."""
    return not await app.cluster.consume(f"auth.mail {kind} {collection.id} {record_id}", 1, RESEND_THROTTLE)


async def otp_try(app: App, collection: CollectionInfo, record_id: str) -> bool:
    """Count an attempt at the record's codes; False when OTP_MAX_TRIES are used up."""
    return await app.cluster.consume(_otp_key(collection, record_id), OTP_MAX_TRIES, OTP_TRY_WINDOW)


async def otp_untry(app: App, collection: CollectionInfo, record_id: str) -> None:
    """A right guess takes its attempt back."""
    await app.cluster.give_back(_otp_key(collection, record_id))


def _otp_key(collection: CollectionInfo, record_id: str) -> str:
    return f"auth.otp {collection.id} {record_id}"
