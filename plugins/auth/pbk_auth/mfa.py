"""PocketBase's multi-factor step: with ``mfa.enabled`` a login whose record matches ``mfa.rule``
answers 401 ``{mfaId}`` (a row in ``_mfas``) until a second login with another method passes
that id back."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pbk_sdk import App
from pbk_sdk.errors import ApiError
from pbk_sdk.ids import new_id
from pbk_sdk.interfaces import CollectionInfo

from .forms import LOAD_FAILED
from .services import own_auth, seconds_since, store, system_collection

MFAS = "_mfas"
INVALID_MFA = "Invalid or expired MFA session."


async def mfa_pending(
    app: App, collection: CollectionInfo, record: Mapping[str, Any], method: str, mfa_id: Any
) -> str | None:
    """The id of a new MFA session when the login must wait for a second method; None when it
    may finish (no MFA, or ``mfa_id`` names the first step's session). A bad ``mfa_id`` is a
    400."""
    options = collection.options.get("mfa") or {}
    if not options.get("enabled") or not await _applies(app, collection, record, options):
        return None
    if not isinstance(mfa_id, str):
        raise ApiError(400, LOAD_FAILED)
    if not mfa_id:
        session = {"id": new_id(), "collectionRef": collection.id, "recordRef": record["id"]}
        created = await store(app).create(
            system_collection(app, MFAS), {**session, "method": method}
        )
        return str(created["id"])
    await _complete(app, collection, record, method, mfa_id, int(options.get("duration") or 600))
    return None


async def _applies(
    app: App, collection: CollectionInfo, record: Mapping[str, Any], options: Mapping[str, Any]
) -> bool:
    """Whether ``mfa.rule`` (empty: everyone) matches the record."""
    rule = str(options.get("rule") or "")
    if not rule.strip():
        return True
    return await store(app).matches_rule(
        collection, record["id"], rule, own_auth(collection, record)
    )


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
