"""How every login ends (password and OTP alike): the ``authRule``, the MFA step, the login
alert, then PocketBase's ``{record, token}`` answer."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pbk_sdk import App
from pbk_sdk.auth import SUPERUSERS, request_auth
from pbk_sdk.client_ip import superuser_ip_allowed
from pbk_sdk.errors import ApiError
from pbk_sdk.events import RECORD_AUTH_REQUEST, RecordAuthEvent
from pbk_sdk.interfaces import CollectionInfo

from . import tokens
from .login_alerts import auth_alert
from .mfa import mfa_pending
from .services import own_auth, store

AUTH_RULE_REFUSED = "The request doesn't satisfy the collection requirements to authenticate."


async def finish_login(
    app: App,
    req: Any,
    resp: Any,
    collection: CollectionInfo,
    record: Mapping[str, Any],
    method: str,
    form: Mapping[str, Any],
    meta: Mapping[str, Any] | None = None,
) -> None:
    """Answer a login whose credentials were right; ``method`` is ``password``, ``otp`` or
    ``oauth2``. ``form`` may carry the ``mfaId`` of the first step (so may the query string);
    ``meta`` (OAuth2's) is added to the answer."""
    if collection.name == SUPERUSERS and not superuser_ip_allowed(app, req):
        raise ApiError(403)
    await check_auth_rule(app, collection, record, method)
    mfa_id = form.get("mfaid") or req.get_param("mfaId") or ""
    pending = await mfa_pending(app, collection, record, method, mfa_id)
    if pending:
        resp.status = 401  # PocketBase answers the first step so, without the error envelope
        resp.media = {"mfaId": pending}
        return
    await auth_alert(app, req, collection, record)
    resp.media = await auth_response(app, collection, record, tokens.mint(record, collection), req, method,
                                     meta)


class Login:
    """``pbk_sdk.interfaces.RecordLogin``: ``finish_login`` for sign-ins other plugins offer."""

    def __init__(self, app: App) -> None:
        self.app = app

    async def finish(self, req: Any, resp: Any, collection: CollectionInfo, record: Mapping[str, Any],
                     method: str, form: Mapping[str, Any], *, meta: Mapping[str, Any] | None = None) -> None:
        await finish_login(self.app, req, resp, collection, record, method, form, meta)


async def check_auth_rule(
    app: App, collection: CollectionInfo, record: Mapping[str, Any], context: str
) -> None:
    """403 unless ``record`` satisfies the collection's ``authRule`` (``@request.context`` is
    ``context``); a ``null`` rule lets nobody in."""
    rule = collection.rule("authRule")
    if rule is None:
        raise ApiError(403, AUTH_RULE_REFUSED)
    if rule.strip():
        own = own_auth(collection, record)
        if not await store(app).matches_rule(collection, record["id"], rule, own, context=context):
            raise ApiError(403, AUTH_RULE_REFUSED)


async def auth_response(
    app: App, collection: CollectionInfo, record: Mapping[str, Any], token: str, req: Any, method: str,
    meta: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """``{record, token}`` (and ``meta`` when given: OAuth2's) after ``record_auth_request``
    (``method`` is the flow), whose default action builds it."""
    if not app.events.has(RECORD_AUTH_REQUEST, collection):
        return await _auth_answer(app, collection, record, token, req, meta)

    async def answer(e: RecordAuthEvent) -> None:
        e.answer = await _auth_answer(app, e.collection, e.record, e.token, e.request, e.meta)

    event = RecordAuthEvent(request=req, collection=collection, record=record, token=token, method=method,
                            meta=None if meta is None else dict(meta))
    await app.events.trigger(RECORD_AUTH_REQUEST, event, answer)
    if event.answer is None:
        raise ApiError(400)  # a handler stopped the chain without answering (logged by the bus)
    return event.answer


async def _auth_answer(
    app: App, collection: CollectionInfo, record: Mapping[str, Any], token: str, req: Any,
    meta: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """``{record, token}`` (``meta`` too when given); the record as its owner sees it (a
    superuser asking sees it as one), with ``?expand=``."""
    expand = [p.strip() for p in (req.get_param("expand") or "").split(",") if p.strip()]
    asking = request_auth(req)
    viewer = asking if asking is not None and asking.is_superuser else own_auth(collection, record)
    presented = await store(app).present(collection, record, viewer, expand=expand)
    answer = {"record": presented, "token": token}
    if meta is not None:
        answer["meta"] = dict(meta)
    return answer
