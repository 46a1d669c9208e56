"""Checking tokens against their records as stored now, for the middleware, the flows and the
``token_service`` other plugins use (``app.services.get(TOKEN_SERVICE, "jwt")``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pbk_sdk import App
from pbk_sdk.auth import RequestAuth
from pbk_sdk.interfaces import CollectionInfo

from . import tokens
from .services import own_auth, store


class JwtTokens:
    """The ``jwt`` token service: PocketBase's tokens, minted and checked."""

    def __init__(self, app: App) -> None:
        self.app = app

    def mint(
        self,
        record: Mapping[str, Any],
        collection: CollectionInfo,
        token_type: str,
        *,
        seconds: int | None = None,
    ) -> str:
        return tokens.mint(record, collection, token_type, seconds=seconds)

    async def verify(self, token: str, token_type: str) -> RequestAuth | None:
        return await authenticate_token(self.app, token, token_type)


async def authenticate_token(
    app: App, token: str, token_type: str = tokens.AUTH
) -> RequestAuth | None:
    """The auth of a valid token, with its record read as stored now (never cached).

    A token verified before skips PyJWT when the fresh record's signing key is still the one
    that verified it (``tokens.verified_before``): revocation by a new tokenKey stays immediate.
    """
    hit = tokens.verified_before(token, token_type)
    claims = hit[1] if hit is not None else tokens.unverified_claims(token)
    if claims is None or claims["type"] != token_type:
        return None
    records = store(app)
    collection = records.collection(claims["collectionId"])
    if collection is None or collection.type != "auth" or collection.id != claims["collectionId"]:
        return None
    record = await records.get(collection, claims["id"])
    if record is None:
        return None
    if hit is None or not tokens.still_valid(hit, record, collection, token_type):
        if hit is not None:
            tokens.forget(token, token_type)
        verified = tokens.verify(token, record, collection, token_type)
        if verified is None:
            return None
        tokens.remember(
            token, token_type, tokens.signing_key(record, collection, token_type), verified
        )
    return own_auth(collection, record)


async def record_for_token(
    app: App, collection: CollectionInfo, token: str, token_type: str
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """(record, verified claims) of a ``token_type`` token of ``collection``'s; the record
    alone when the token does not verify, (None, None) when it names no record."""
    claims = tokens.unverified_claims(token)
    if claims is None or claims.get("collectionId") != collection.id:
        return None, None
    record = await store(app).get(collection, claims["id"])
    if record is None:
        return None, None
    return record, tokens.verify(token, record, collection, token_type)
