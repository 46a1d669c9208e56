"""Which record an OAuth2 user signs in to, and the writes that sign-in makes, as PocketBase's
``recordAuthWithOAuth2``/``oauth2Submit``: the record already linked to this provider account,
else the signed-in record (linking another account to it), else the record with the provider's
verified e-mail, else a new record from ``createData`` and the mapped fields."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Mapping
from typing import Any

from pbk_sdk import App
from pbk_sdk.auth import GUEST, SUPERUSERS, RequestAuth
from pbk_sdk.errors import ApiError
from pbk_sdk.events import RecordAuthWithOAuth2Event
from pbk_sdk.interfaces import CollectionInfo
from pbk_sdk.oauth2 import AuthUser

from .avatar import AvatarError, download_avatar
from .links import add_link, store, unlink_all

log = logging.getLogger(__name__)

FAILED = "Failed to authenticate."


async def find_record(app: App, collection: CollectionInfo, link: Mapping[str, Any] | None,
                      signed_in: RequestAuth | None, user: AuthUser) -> dict[str, Any] | None:
    """The record to sign in to, None for a sign-up."""
    if link is not None:
        record = await store(app).get(collection, str(link.get("recordRef")))
        if record is None:
            raise ApiError(404, "The requested resource wasn't found.")
        return record
    if signed_in is not None:
        return await store(app).get(collection, signed_in.id)
    if user.email:
        try:
            return await store(app).find(collection, "email", user.email)
        except ValueError:
            return None
    return None


async def sign_up_data(app: App, event: RecordAuthWithOAuth2Event) -> dict[str, Any]:
    """``createData`` with the verified e-mail, the mapped fields and a random password, as
    PocketBase fills them (values the client sent win), the avatar downloaded when its mapped
    field is a file field (only from public addresses). The username is checked by the create
    (``_sign_up``)."""
    collection: CollectionInfo = event.collection
    user: AuthUser = event.oauth2_user
    payload = dict(event.create_data)
    if not isinstance(payload.get("email"), str) or not payload.get("email"):
        payload["email"] = user.email
    mapped = (collection.options.get("oauth2") or {}).get("mappedFields") or {}
    for key, value in (("id", user.id), ("name", user.name), ("username", user.username)):
        field = mapped.get(key)
        if field and field not in payload and (key != "username" or _field_type(collection, field)):
            payload[field] = value
    avatar_field = mapped.get("avatarURL")
    if avatar_field and avatar_field not in payload and user.avatar_url:
        if _field_type(collection, avatar_field) == "file":
            try:
                payload[avatar_field] = await download_avatar(user.avatar_url)
            except AvatarError as error:
                log.warning("Failed to retrieve OAuth2 avatar: %s", error)
        else:
            payload[avatar_field] = user.avatar_url
    if "password" not in payload:
        payload["password"] = payload["passwordConfirm"] = secrets.token_urlsafe(22)[:30]
    return payload


async def submit(app: App, event: RecordAuthWithOAuth2Event, link: Mapping[str, Any] | None,
                 requester: RequestAuth | None) -> dict[str, Any]:
    """Create or update the record and link the provider account, in one transaction; the
    record as stored. An ``ApiError`` (the sign-up's validation, say) is answered as it is."""
    collection: CollectionInfo = event.collection
    user: AuthUser = event.oauth2_user
    records = store(app)
    payload = await sign_up_data(app, event) if event.record is None else {}
    async with app.db.transaction():
        if event.record is None:
            if collection.name == SUPERUSERS:
                raise ApiError(400, FAILED)
            record = await _sign_up(app, event, payload, requester)
        try:
            if event.record is None:
                if record.get("email") == user.email and not record.get("verified"):
                    record = await records.update(collection, record["id"], {"verified": True})
            else:
                record, link = await _update_existing(app, collection, event.record, user,
                                                      requester, link)
            if link is None:
                await add_link(app, collection, record["id"], event.provider_name, user.id)
        except ApiError as error:  # PocketBase's saves here answer its generic 400
            log.warning("OAuth2 sign-in to %s failed: %s %s", collection.name, error.message, error.data)
            raise ApiError(400, FAILED) from error
    return record


async def _update_existing(app: App, collection: CollectionInfo, record: dict[str, Any],
                           user: AuthUser, requester: RequestAuth | None,
                           link: Mapping[str, Any] | None) -> tuple[dict[str, Any], Any]:
    """PocketBase's guards for an existing record: an unverified one gets a new random password
    (unless it is the one signed in) and loses its other links (against accounts pre-created
    by someone else), takes the provider's e-mail when it has none, and is verified when its
    e-mail is the provider's."""
    records = store(app)
    changes: dict[str, Any] = {}
    is_signed_in = (requester is not None and requester.id == record["id"]
                    and requester.collection_id == collection.id)
    if not is_signed_in and not record.get("verified"):
        changes["password"] = secrets.token_urlsafe(22)[:30]
    if not record.get("verified"):
        await unlink_all(app, collection, record["id"])
        link = None
    email = changes.get("email", record.get("email") or "")
    if not email and user.email:
        changes["email"] = email = user.email
    if not record.get("verified") and (not email or email == user.email):
        changes["verified"] = True
    if changes:
        record = await records.update(collection, record["id"], changes)
    return record, link


async def _sign_up(app: App, event: RecordAuthWithOAuth2Event, payload: dict[str, Any],
                   requester: RequestAuth | None) -> dict[str, Any]:
    """The records API's own create (its refusal is answered as it is), as a guest unless
    someone signed the request. A mapped username the field refuses (taken, or not its pattern
    or length) is left out, as PocketBase checks it before mapping it."""
    collection: CollectionInfo = event.collection
    username_field = ((collection.options.get("oauth2") or {}).get("mappedFields") or {}).get("username")
    mapped_username = bool(username_field) and username_field not in event.create_data
    try:
        async with app.db.transaction():
            return await store(app).create(collection, payload, auth=requester or GUEST,
                                           context="oauth2")
    except ApiError as error:
        if not (mapped_username and isinstance(error.data, dict) and username_field in error.data):
            raise
    payload = {key: value for key, value in payload.items() if key != username_field}
    return await store(app).create(collection, payload, auth=requester or GUEST, context="oauth2")


def _field_type(collection: CollectionInfo, name: str) -> str | None:
    for field in collection.to_json().get("fields") or []:
        if field.get("name") == name:
            return str(field.get("type"))
    return None
