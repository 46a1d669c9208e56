"""PocketBase's multi-factor step: with ``mfa.enabled`` a login whose record matches ``mfa.rule``
answers 401 ``{mfaId}`` (a row in ``_mfas``) until a second login with another method passes
that id back."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pbk_sdk import App
from pbk_sdk.auth import RequestAuth
from pbk_sdk.errors import ApiError
from pbk_sdk.ids import new_id
from pbk_sdk.interfaces import CollectionInfo

from .forms import LOAD_FAILED
from .services import seconds_since, store, system_collection

MFAS = "_mfas"
INVALID_MFA = "Invalid or expired MFA session."


async def mfa_pending(
    app: App,
    req: Any,
    resp: Any,
    collection: CollectionInfo,
    record: Mapping[str, Any],
    method: str,
    form: Mapping[str, Any],
) -> bool:
    """True when the login must wait for a second method (``resp`` then holds the 401
    ``{mfaId}``); False when it may finish. An ``mfaId`` that does not fit is a 400."""
    options = collection.options.get("mfa") or {}
    if not options.get("enabled") or not await _applies(
        app, collection, record, str(options.get("rule") or "")
    ):
        return False
    mfa_id = form.get("mfaid") or req.get_param("mfaId") or ""
    if not isinstance(mfa_id, str):
        raise ApiError(400, LOAD_FAILED)
    if not mfa_id:
        created = await store(app).create(
            system_collection(app, MFAS),
            {
                "id": new_id(),
                "collectionRef": collection.id,
                "recordRef": record["id"],
                "method": method,
            },
        )
        resp.status = 401
        resp.media = {"mfaId": created["id"]}
        return True
    await _complete(app, collection, record, method, mfa_id, int(options.get("duration") or 600))
    return False


async def _applies(
    app: App, collection: CollectionInfo, record: Mapping[str, Any], rule: str
) -> bool:
    if not rule.strip():
        return True
    own = RequestAuth(record=record, collection_id=collection.id, collection_name=collection.name)
    return await store(app).matches_rule(collection, record["id"], rule, own)


async def _complete(
    app: App,
    collection: CollectionInfo,
    record: Mapping[str, Any],
    method: str,
    mfa_id: str,
    duration: int,
) -> None:
    """Use up the ``_mfas`` row of the first login, which must be this record's, recent, and
    of another method."""
    mfas = system_collection(app, MFAS)
    found = await store(app).get(mfas, mfa_id)
    if (
        found is None
        or found.get("collectionRef") != collection.id
        or found.get("recordRef") != record["id"]
        or seconds_since(str(found.get("created", ""))) > duration
    ):
        raise ApiError(400, INVALID_MFA)
    if found.get("method") == method:
        raise ApiError(400, "A different authentication method is required.")
    await store(app).delete(mfas, mfa_id)
