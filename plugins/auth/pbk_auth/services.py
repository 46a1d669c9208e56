"""What every auth module works with: the services it asks the app for, auth collections and
their records, and the base of every endpoint."""

from __future__ import annotations

import secrets
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from pbk_sdk import App
from pbk_sdk.auth import RequestAuth, request_auth
from pbk_sdk.errors import ApiError
from pbk_sdk.interfaces import (
    MAILER,
    RECORD_STORE,
    CollectionInfo,
    Mailer,
    RecordStore,
)

MISSING_AUTH_COLLECTION = "Missing or invalid auth collection context."


def store(app: App) -> RecordStore:
    return app.services.get(RECORD_STORE, "sqlite")


def mailer(app: App) -> Mailer | None:
    """The mailer service: ``smtp`` when offered, else the only one; None without a mailer
    plugin (or with several and no ``smtp``)."""
    try:
        return app.services.get(MAILER, "smtp" if "smtp" in app.services.providers(MAILER) else None)
    except LookupError:
        return None


def auth_collection(app: App, id_or_name: str) -> CollectionInfo:
    """The auth collection a URL names; PocketBase's 404 for an unknown or non-auth one."""
    collection = store(app).collection(id_or_name)
    if collection is None or collection.type != "auth":
        raise ApiError(404, MISSING_AUTH_COLLECTION)
    return collection


def own_auth(collection: CollectionInfo, record: Mapping[str, Any]) -> RequestAuth:
    """``record`` as its own requester, for rules evaluated on its behalf."""
    return RequestAuth(record=record, collection_id=collection.id, collection_name=collection.name)


def system_collection(app: App, name: str) -> CollectionInfo:
    """One of the system collections the records plugin always creates (``_otps`` ...)."""
    collection = store(app).collection(name)
    if collection is None:
        raise LookupError(f"the system collection {name} is missing")
    return collection


async def find_by_email(app: App, collection: CollectionInfo, email: str) -> dict[str, Any] | None:
    """The record with this email, or None (also when the collection has no email field)."""
    try:
        return await store(app).find(collection, "email", email)
    except ValueError:
        return None


def random_password() -> str:
    """A password nobody knows, for records that sign in some other way."""
    return secrets.token_urlsafe(24)


def seconds_since(stamp: Any) -> float:
    """The age of a record's ``created`` value (PocketBase's datetime text); unreadable is old."""
    try:
        created = datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S.%fZ").replace(tzinfo=UTC).timestamp()
    except (TypeError, ValueError):
        created = 0.0
    return time.time() - created


class AuthEndpoint:
    """The base of the falcon resources under ``/api/collections/{collection}/``."""

    def __init__(self, app: App) -> None:
        self.app = app

    def collection(self, name: str) -> CollectionInfo:
        return auth_collection(self.app, name)

    def require_same_collection(self, req: Any, collection: CollectionInfo) -> RequestAuth:
        """The signed-in record of ``collection``: 401 for guests; 403 naming the collection
        the caller did sign in to, as PocketBase's message does."""
        auth = request_auth(req)
        if auth is None:
            raise ApiError(401, "The request requires valid record authorization token.")
        if auth.collection_id != collection.id:
            raise ApiError(
                403, f"The request requires auth record from {auth.collection_name} collection."
            )
        return auth
