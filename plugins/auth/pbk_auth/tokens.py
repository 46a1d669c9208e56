"""PocketBase's JWTs: HS256, signed with the record's ``tokenKey`` plus the collection secret.

Because the key includes ``tokenKey``, a new ``tokenKey`` (password or email change) revokes
every token of that record; because it includes the collection's per-type secret, a token is
only valid as the type it was minted for.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import jwt

AUTH = "auth"
OPTION_FOR_TYPE = {
    "auth": "authToken",
    "file": "fileToken",
    "verification": "verificationToken",
    "passwordReset": "passwordResetToken",
    "emailChange": "emailChangeToken",
}


def signing_key(record: Mapping[str, Any], collection: Any, token_type: str) -> str:
    option = collection.options.get(OPTION_FOR_TYPE[token_type]) or {}
    return str(record.get("tokenKey", "")) + str(option.get("secret", ""))


def duration(collection: Any, token_type: str) -> int:
    option = collection.options.get(OPTION_FOR_TYPE[token_type]) or {}
    return int(option.get("duration") or 0)


def mint(
    record: Mapping[str, Any],
    collection: Any,
    token_type: str = AUTH,
    *,
    seconds: int | None = None,
    refreshable: bool = True,
    extra: Mapping[str, Any] | None = None,
) -> str:
    claims: dict[str, Any] = {
        "collectionId": collection.id,
        "exp": int(time.time()) + (seconds if seconds else duration(collection, token_type)),
        "id": record["id"],
        "type": token_type,
    }
    if token_type == AUTH:
        claims["refreshable"] = refreshable
    claims.update(extra or {})
    return jwt.encode(claims, signing_key(record, collection, token_type), algorithm="HS256")


def unverified_claims(token: str) -> dict[str, Any] | None:
    """The claims, unverified (to find the record whose key verifies them); None if malformed."""
    try:
        claims = jwt.decode(token, options={"verify_signature": False, "verify_exp": False})
    except jwt.PyJWTError:
        return None
    if not isinstance(claims.get("id"), str) or not isinstance(claims.get("collectionId"), str):
        return None
    if not isinstance(claims.get("type"), str):
        return None
    return claims


def verify(token: str, record: Mapping[str, Any], collection: Any, token_type: str) -> dict[str, Any] | None:
    """The verified claims of a ``token_type`` token for ``record``, or None."""
    try:
        claims = jwt.decode(
            token,
            signing_key(record, collection, token_type),
            algorithms=["HS256"],
            options={"require": ["exp", "id", "collectionId", "type"]},
        )
    except jwt.PyJWTError:
        return None
    if claims.get("type") != token_type or claims.get("id") != record.get("id"):
        return None
    return claims


def from_header(value: str | None) -> str | None:
    """``Authorization: TOKEN`` or ``Authorization: Bearer TOKEN`` (prefix in any case)."""
    if not value:
        return None
    value = value.strip()
    if value[:7].lower() == "bearer ":
        value = value[7:].strip()
    return value or None
