"""``POST /api/collections/{collection}/auth-with-oauth2``: exchange the code, learn who the
provider's user is, sign in to (or sign up) the record it belongs to, answer ``{token, record,
meta}``. Every failure is PocketBase's status and message; the cause goes to the log."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

from pbk_sdk import App
from pbk_sdk.auth import request_auth
from pbk_sdk.body import read_body
from pbk_sdk.errors import ApiError, FieldError
from pbk_sdk.events import RECORD_AUTH_WITH_OAUTH2_REQUEST, RecordAuthWithOAuth2Event
from pbk_sdk.interfaces import RECORD_LOGIN, CollectionInfo
from pbk_sdk.oauth2 import AuthUser, OAuth2Provider, OAuth2Token

from .accounts import FAILED, find_record, submit
from .links import find_link, store
from .protocol import TIMEOUT_SECONDS, TokenError, exchange_code
from .state import OAUTH2, OAuth2State

log = logging.getLogger(__name__)

LOAD_FAILED = "An error occurred while loading the submitted data."
DISABLED = "The collection is not configured to allow OAuth2 authentication."
TOKEN_FAILED = "Failed to fetch OAuth2 token."
USER_FAILED = "Failed to fetch OAuth2 user."
#: The form's text fields, lower-cased (``redirectUrl``, the legacy spelling, is the same key).
TEXT_KEYS = ("provider", "code", "codeverifier", "redirecturl")


def oauth2_collection(app: App, id_or_name: str) -> CollectionInfo:
    """The auth collection with OAuth2 on, with PocketBase's 404 and 403."""
    collection = store(app).collection(id_or_name)
    if collection is None:
        raise ApiError(404, "Missing or invalid collection context.")
    if collection.type != "auth":
        raise ApiError(404, "Missing or invalid auth collection context.")
    if not (collection.options.get("oauth2") or {}).get("enabled"):
        raise ApiError(403, DISABLED)
    return collection


async def read_sign_in_form(req: Any, collection: CollectionInfo) -> tuple[dict[str, Any], dict[str, Any]]:
    """The form (keys matched case-insensitively, as Go's JSON does) and the provider entry it
    names; 400 "loading" with PocketBase's field errors otherwise."""
    body = await read_body(req, bad_json=LOAD_FAILED)
    body.close()
    form = {str(key).lower(): value for key, value in body.data.items()}
    if any(form.get(key) is not None and not isinstance(form.get(key), str) for key in TEXT_KEYS):
        raise ApiError(400, LOAD_FAILED)
    create_data = form.get("createdata")
    if create_data is not None and not isinstance(create_data, dict):
        raise ApiError(400, LOAD_FAILED)
    name = form.get("provider") or ""
    entries = (collection.options.get("oauth2") or {}).get("providers") or []
    entry = next((e for e in entries if isinstance(e, dict) and e.get("name") == name), None)
    errors: dict[str, FieldError] = {}
    if not form.get("code"):
        errors["code"] = FieldError("validation_required", "Cannot be blank.")
    if not name:
        errors["provider"] = FieldError("validation_required", "Cannot be blank.")
    elif len(name) > 100:
        errors["provider"] = FieldError("validation_length_too_long",
                                        "The length must be no more than 100.", {"max": 100, "min": 0})
    elif entry is None:
        errors["provider"] = invalid_provider(name)
    if errors:
        raise ApiError(400, LOAD_FAILED, errors)
    return form, entry or {}


def invalid_provider(name: str) -> FieldError:
    return FieldError("validation_invalid_provider",
                      f"Provider with name {name} is missing or is not enabled.", {"name": name})


class AuthWithOAuth2:
    def __init__(self, app: App) -> None:
        self.app = app

    async def on_post(self, req: Any, resp: Any, collection: str) -> None:
        coll = oauth2_collection(self.app, collection)
        oauth2 = self.app.state[OAUTH2]
        requester = request_auth(req)
        signed_in = requester if requester is not None and requester.collection_id == coll.id else None
        form, entry = await read_sign_in_form(req, coll)
        provider = oauth2.catalogue.build(entry, oauth2.http)
        if provider is None:
            raise ApiError(400, LOAD_FAILED, {"provider": invalid_provider(entry["name"])})
        user = await self._provider_user(oauth2, provider, form)
        link = await find_link(self.app, coll, provider.name, user.id)
        record = await find_record(self.app, coll, link, signed_in, user)
        event = RecordAuthWithOAuth2Event(
            request=req, response=resp, collection=coll, provider_name=provider.name,
            provider=provider, oauth2_user=user, record=record, is_new_record=record is None,
            create_data=dict(form.get("createdata") or {}))

        async def sign_in(e: RecordAuthWithOAuth2Event) -> None:
            try:
                e.record = await submit(self.app, e, link, requester)
            except ApiError:
                raise
            except Exception as error:
                log.warning("OAuth2 sign-in to %s failed: %s", coll.name, error)
                raise ApiError(400, FAILED) from error
            meta: dict[str, Any] = {**e.oauth2_user.to_json(), "isNew": e.is_new_record}
            await self.app.state[RECORD_LOGIN].finish(req, resp, coll, e.record, "oauth2", form,
                                                       meta=meta)

        await self.app.events.trigger(RECORD_AUTH_WITH_OAUTH2_REQUEST, event, sign_in)

    async def _provider_user(self, oauth2: OAuth2State, provider: OAuth2Provider,
                             form: Mapping[str, Any]) -> AuthUser:
        """The provider's user for the form's code; PocketBase's 400s on any failure, also when
        the exchange and the user calls take more than 30 seconds together."""
        redirect_url = str(form.get("redirecturl") or "")
        verifier = str(form.get("codeverifier") or "") if provider.pkce else None
        token: OAuth2Token | None = None
        try:
            async with asyncio.timeout(TIMEOUT_SECONDS):
                try:
                    token = await exchange_code(provider, oauth2.http, str(form["code"]), verifier,
                                                redirect_url)
                except TokenError as error:
                    log.info("OAuth2 %s token exchange failed: %s", provider.name, error)
                    raise ApiError(400, TOKEN_FAILED) from error
                try:
                    user = await provider.fetch_auth_user(token)
                except Exception as error:  # a provider is third-party code: any failure is its 400
                    log.info("OAuth2 %s user fetch failed: %s", provider.name, error)
                    raise ApiError(400, USER_FAILED) from error
        except TimeoutError as error:
            log.info("OAuth2 %s took more than %s seconds", provider.name, TIMEOUT_SECONDS)
            raise ApiError(400, TOKEN_FAILED if token is None else USER_FAILED) from error
        if provider.name == "apple" and not user.name:
            user.name = await oauth2.apple_names.take_anywhere(self.app.cluster, str(form["code"]))
        return user
