"""File tokens (``type: "file"``), PocketBase's JWTs for protected files.

Signed HS256 with the auth record's ``tokenKey`` + its collection's ``fileToken.secret``;
claims ``collectionId, exp, id, type``. Minted for any authenticated record and checked here
with pyjwt (the auth plugin has the same logic for auth tokens; the SDK offers no token
service yet, see docs/files.md).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import jwt
from pbk_sdk.auth import RequestAuth

FILE = "file"
DEFAULT_DURATION = 180


def _option(collection: Any) -> Mapping[str, Any]:
    return (collection.options or {}).get("fileToken") or {}


def signing_key(record: Mapping[str, Any], collection: Any) -> str:
    return str(record.get("tokenKey", "")) + str(_option(collection).get("secret", ""))


def mint(record: Mapping[str, Any], collection: Any) -> str:
    seconds = int(_option(collection).get("duration") or 0) or DEFAULT_DURATION
    claims = {"collectionId": collection.id, "exp": int(time.time()) + seconds, "id": record["id"], "type": FILE}
    return jwt.encode(claims, signing_key(record, collection), algorithm="HS256")


async def verify(store: Any, token: str) -> RequestAuth | None:
    """The auth record a valid file token belongs to, or None."""
    try:
        claims = jwt.decode(token, options={"verify_signature": False, "verify_exp": False})
    except jwt.PyJWTError:
        return None
    if claims.get("type") != FILE or not isinstance(claims.get("id"), str):
        return None
    collection_id = claims.get("collectionId")
    if not isinstance(collection_id, str):
        return None
    collection = store.collection(collection_id)
    if collection is None or collection.id != collection_id or collection.type != "auth":
        return None
    record = await store.get(collection, claims["id"])
    if record is None:
        return None
    try:
        verified = jwt.decode(
            token,
            signing_key(record, collection),
            algorithms=["HS256"],
            options={"require": ["exp", "id", "collectionId", "type"]},
        )
    except jwt.PyJWTError:
        return None
    if verified.get("id") != record.get("id"):
        return None
    return RequestAuth(record=record, collection_id=collection.id, collection_name=collection.name)
