"""Email change: ``request-email-change`` (by the signed-in record) mails an ``emailChange``
token to the new address, ``confirm-email-change`` with the record's password applies it."""

from __future__ import annotations

import asyncio
from typing import Any

from pbk_sdk.auth import SUPERUSERS, RequestAuth, password_hasher
from pbk_sdk.errors import ApiError, FieldError, MailNotSent
from pbk_sdk.interfaces import CollectionInfo

from . import tokens
from .forms import check_text, email_problem, invalid_token, raise_if, read_fields, read_form
from .mail import mail_token
from .services import AuthEndpoint, find_by_email, store
from .token_service import record_for_token


def invalid_new_email() -> FieldError:
    return FieldError("validation_invalid_new_email", "Invalid new email address.")


class RequestEmailChange(AuthEndpoint):
    """``POST …/request-email-change`` ``{newEmail}`` → 204 once the mail server took the mail
    to the new address; 400 when it did not, as PocketBase sends it before answering."""

    async def on_post(self, req: Any, resp: Any, collection: str) -> None:
        coll = self.collection(collection)
        auth = self.require_same_collection(req, coll)
        if coll.name == SUPERUSERS:
            raise ApiError(400, "All superusers can change their emails directly.")
        form = await read_form(req)
        check_text(form, "newEmail")
        new_email = str(form.get("newemail") or "")
        raise_if({"newEmail": problem} if (problem := await self._problem(coll, auth, new_email)) else {})
        record = dict(auth.record)
        try:
            await mail_token(
                self.app, coll, record, "emailChange", to=new_email, claims={"newEmail": new_email},
                wait=True,
            )
        except MailNotSent as error:
            raise ApiError(400, "Failed to request email change.") from error
        resp.status = 204

    async def _problem(
        self, coll: CollectionInfo, auth: RequestAuth, new_email: str
    ) -> FieldError | None:
        """PocketBase's checks on ``newEmail``, in its order; the first that fails."""
        if not new_email:
            return FieldError("validation_required", "Cannot be blank.")
        problem = email_problem(new_email)
        if problem:
            return problem
        if new_email == auth.record.get("email"):
            return FieldError("validation_not_in_invalid", "Must not be in list.")
        other = await find_by_email(self.app, coll, new_email)
        if other is not None and other["id"] != auth.record.get("id"):
            return invalid_new_email()
        return None


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
