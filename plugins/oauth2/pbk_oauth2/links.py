"""The ``_externalAuths`` rows that link a provider account to a record, and what happens to
them when the record changes: deleted with it, and dropped (with a new ``tokenKey``) when it
becomes verified, as PocketBase's record hooks do."""

from __future__ import annotations

import string
from typing import Any

from pbk_sdk import App
from pbk_sdk.events import RECORD_AFTER_DELETE_SUCCESS, RECORD_UPDATE, RecordEvent
from pbk_sdk.ids import new_id
from pbk_sdk.interfaces import RECORD_STORE, CollectionInfo, RecordStore

EXTERNAL_AUTHS = "_externalAuths"
TOKEN_KEY_ALPHABET = string.ascii_letters + string.digits


def store(app: App) -> RecordStore:
    return app.services.get(RECORD_STORE, "sqlite")


def external_auths(app: App) -> CollectionInfo:
    collection = store(app).collection(EXTERNAL_AUTHS)
    if collection is None:
        raise LookupError(f"the system collection {EXTERNAL_AUTHS} is missing")
    return collection


async def find_link(app: App, collection: CollectionInfo, provider: str, provider_id: str,
                    ) -> dict[str, Any] | None:
    """The row linking this provider account to a record of ``collection``."""
    found = await store(app).find_all(external_auths(app), {
        "collectionRef": collection.id, "provider": provider, "providerId": provider_id})
    return found[0] if found else None


async def add_link(app: App, collection: CollectionInfo, record_id: str, provider: str,
                   provider_id: str) -> None:
    await store(app).create(external_auths(app), {
        "collectionRef": collection.id, "recordRef": record_id, "provider": provider,
        "providerId": provider_id})


async def unlink_all(app: App, collection: CollectionInfo, record_id: str) -> int:
    """Delete every link of the record; how many there were."""
    links = external_auths(app)
    found = await store(app).find_all(links, {"collectionRef": collection.id, "recordRef": record_id})
    for link in found:
        await store(app).delete(links, link["id"])
    return len(found)


def follow_records(app: App) -> None:
    """Listen to auth records' deletes and updates (one worker's handlers; each worker's)."""

    async def unlink_deleted(e: RecordEvent) -> None:
        await unlink_all(app, e.collection, e.record["id"])
        await e.next()

    async def unlink_on_verify(e: RecordEvent) -> None:
        """Whoever linked an account to an address not yet proven cannot keep it, nor the
        tokens issued meanwhile."""
        upgraded = e.original is not None and not e.original.get("verified") and e.record.get("verified")
        if upgraded and await unlink_all(app, e.collection, e.record["id"]):
            e.record["tokenKey"] = new_id(50, TOKEN_KEY_ALPHABET)
        await e.next()

    app.events.on(RECORD_AFTER_DELETE_SUCCESS, unlink_deleted, collections=is_auth)
    app.events.on(RECORD_UPDATE, unlink_on_verify, collections=is_auth)


def is_auth(collection: CollectionInfo) -> bool:
    return collection.type == "auth"
