"""Email change: ``request-email-change`` (by the signed-in record) mails an ``emailChange``
token to the new address, ``confirm-email-change`` with the record's password applies it."""

from __future__ import annotations

import asyncio
from typing import Any

from pbk_sdk.auth import password_hasher, request_auth
from pbk_sdk.errors import ApiError, FieldError

from . import tokens
from .forms import invalid_token, raise_if, read_email, read_fields
from .mail import mail_token
from .services import AuthEndpoint, find_by_email, store
from .token_service import record_for_token

NEEDS_AUTH = "The request requires valid record authorization token."


def invalid_new_email() -> FieldError:
    return FieldError("validation_invalid_new_email", "Invalid new email address.")


class RequestEmailChange(AuthEndpoint):
    """``POST …/request-email-change`` ``{newEmail}`` → 204 and a mail to the new address."""

    async def on_post(self, req: Any, resp: Any, collection: str) -> None:
        coll = self.collection(collection)
        auth = request_auth(req)
        if auth is None:
            raise ApiError(401, NEEDS_AUTH)
        if auth.collection_id != coll.id:
            raise ApiError(403, f"The request requires auth record from {coll.name} collection.")
        new_email = await read_email(req, "newEmail")
        if (
            new_email == auth.record.get("email")
            or await find_by_email(self.app, coll, new_email) is not None
        ):
            raise_if({"newEmail": invalid_new_email()})
        record = dict(auth.record)
        await mail_token(
            self.app, coll, record, "emailChange", to=new_email, claims={"newEmail": new_email}
        )
        resp.status = 204


class ConfirmEmailChange(AuthEndpoint):
    """``POST …/confirm-email-change`` ``{token, password}`` → 204; the new email is verified."""

    async def on_post(self, req: Any, resp: Any, collection: str) -> None:
        coll = self.collection(collection)
        form = await read_fields(req, "token", "password")
        errors: dict[str, FieldError] = {}
        record = claims = None
        if not (tokens.unverified_claims(form["token"]) or {}).get("newEmail"):
            errors["token"] = FieldError(
                "validation_invalid_token_payload", "Invalid token payload - newEmail must be set."
            )
        else:
            record, claims = await record_for_token(self.app, coll, form["token"], "emailChange")
            if record is None or claims is None:
                errors["token"] = invalid_token()
        ok = record is not None and await asyncio.to_thread(
            password_hasher(self.app).verify, form["password"], str(record.get("password", ""))
        )
        if not ok:
            errors["password"] = FieldError(
                "validation_invalid_password", "Missing or invalid auth record password."
            )
        raise_if(errors)
        assert record is not None and claims is not None
        new_email = str(claims["newEmail"])
        other = await find_by_email(self.app, coll, new_email)
        if other is not None and other["id"] != record["id"]:
            raise_if({"token": invalid_new_email()})
        await store(self.app).update(coll, record["id"], {"email": new_email, "verified": True})
        resp.status = 204
