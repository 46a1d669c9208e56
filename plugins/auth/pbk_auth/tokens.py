"""PocketBase's JWTs: HS256, signed with the record's ``tokenKey`` plus the collection secret.

Because the key includes ``tokenKey``, a new ``tokenKey`` (password or email change) revokes
every token of that record; because it includes the collection's per-type secret, a token is
only valid as the type it was minted for.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from pbk_sdk.interfaces import CollectionInfo

AUTH = "auth"
OPTION_FOR_TYPE = {
    "auth": "authToken",
    "file": "fileToken",
    "verification": "verificationToken",
    "passwordReset": "passwordResetToken",
    "emailChange": "emailChangeToken",
}


def signing_key(record: Mapping[str, Any], collection: CollectionInfo, token_type: str) -> str:
    option = collection.options.get(OPTION_FOR_TYPE[token_type]) or {}
    return str(record.get("tokenKey", "")) + str(option.get("secret", ""))


def _jwt() -> Any:
    """PyJWT, imported on first use: it pulls in cryptography, which slows start-up."""
    import jwt

    return jwt


def duration(collection: CollectionInfo, token_type: str) -> int:
    option = collection.options.get(OPTION_FOR_TYPE[token_type]) or {}
    return int(option.get("duration") or 0)


def mint(
    record: Mapping[str, Any],
    collection: CollectionInfo,
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
    return _jwt().encode(claims, signing_key(record, collection, token_type), algorithm="HS256")


def unverified_claims(token: str) -> dict[str, Any] | None:
    """The claims, unverified (to find the record whose key verifies them); None if malformed."""
    try:
        claims = _jwt().decode(token, options={"verify_signature": False, "verify_exp": False})
    except _jwt().PyJWTError:
        return None
    if not isinstance(claims.get("id"), str) or not isinstance(claims.get("collectionId"), str):
        return None
    if not isinstance(claims.get("type"), str):
        return None
    return claims


def verify(
    token: str, record: Mapping[str, Any], collection: CollectionInfo, token_type: str
) -> dict[str, Any] | None:
    """The verified claims of a ``token_type`` token for ``record``, or None."""
    try:
        claims = _jwt().decode(
            token,
            signing_key(record, collection, token_type),
            algorithms=["HS256"],
            options={"require": ["exp", "id", "collectionId", "type"]},
        )
    except _jwt().PyJWTError:
        return None
    if claims.get("type") != token_type or claims.get("id") != record.get("id"):
        return None
    return claims


#: Tokens verified before: (token, type) -> (the signing key that verified it, its claims).
#: A hit skips PyJWT (decode + HS256) but never the record: the caller reads the record as
#: stored now and accepts the hit only if that record's signing key (its current tokenKey +
#: the collection's current secret) is the one that verified the token, and ``exp`` is still
#: ahead. A new tokenKey (password or email change, from any process) or a new secret revokes
#: the token exactly as without the cache; "this token verifies under this key" never goes
#: stale, so entries need no time limit, only a size bound. For the same reason the cache is
#: the process's, not an app's: it remembers facts about tokens, not any app's state.
VERIFIED_MAX = 4096
_verified: dict[tuple[str, str], tuple[str, dict[str, Any]]] = {}


def verified_before(token: str, token_type: str) -> tuple[str, dict[str, Any]] | None:
    """The remembered (signing key, claims) of a token verified earlier, if any."""
    return _verified.get((token, token_type))


def still_valid(
    hit: tuple[str, dict[str, Any]],
    record: Mapping[str, Any],
    collection: CollectionInfo,
    token_type: str,
) -> bool:
    """Whether a remembered verification holds for ``record`` as stored now (see above)."""
    key, claims = hit
    exp = claims.get("exp")
    return (
        isinstance(exp, (int, float))
        and exp > time.time()  # PyJWT's rule (no leeway): expired once exp <= now
        and claims.get("id") == record.get("id")
        and key == signing_key(record, collection, token_type)
    )


def remember(token: str, token_type: str, key: str, claims: dict[str, Any]) -> None:
    if len(_verified) >= VERIFIED_MAX:
        # Oldest first (dicts keep insertion order): drop an eighth in one go.
        for stale in list(_verified)[: VERIFIED_MAX // 8]:
            _verified.pop(stale, None)
    _verified[(token, token_type)] = (key, claims)


def forget(token: str, token_type: str) -> None:
    _verified.pop((token, token_type), None)


def from_header(value: str | None) -> str | None:
    """``Authorization: TOKEN`` or ``Authorization: Bearer TOKEN`` (prefix in any case)."""
    if not value:
        return None
    value = value.strip()
    if value[:7].lower() == "bearer ":
        value = value[7:].strip()
    return value or None
