"""Password reset: ``request-password-reset`` mails a ``passwordReset`` token,
``confirm-password-reset`` sets the new password (and so a new ``tokenKey``)."""

from __future__ import annotations

from typing import Any

from pbk_sdk.errors import FieldError
from pbk_sdk.interfaces import CollectionInfo

from .counters import throttled
from .forms import blank_errors, check_text, invalid_token, raise_if, read_email, read_form
from .mail import mail_token
from .services import AuthEndpoint, find_by_email, store
from .token_service import record_for_token

PASSWORD_MAX = 255


class RequestPasswordReset(AuthEndpoint):
    """``POST …/request-password-reset`` ``{email}`` → 204, mail or not (one a record per 2 min)."""

    async def on_post(self, req: Any, resp: Any, collection: str) -> None:
        coll = self.collection(collection)
        record = await find_by_email(self.app, coll, await read_email(req))
        if record is not None and not await throttled(
            self.app, "passwordReset", coll, record["id"]
        ):
            await mail_token(self.app, coll, record, "passwordReset")
        resp.status = 204


class ConfirmPasswordReset(AuthEndpoint):
    """``POST …/confirm-password-reset`` ``{token, password, passwordConfirm}`` → 204; every
    field error in one answer."""

    async def on_post(self, req: Any, resp: Any, collection: str) -> None:
        coll = self.collection(collection)
        form = await read_form(req)
        check_text(form, "token", "password", "passwordConfirm")
        errors = blank_errors(form, "token", "password", "passwordConfirm")
        password = form.get("password") or ""
        low = _password_min(coll)
        if password and not low <= len(password) <= PASSWORD_MAX:
            errors["password"] = FieldError(
                "validation_length_out_of_range",
                f"The length must be between {low} and {PASSWORD_MAX}.",
                {"min": low, "max": PASSWORD_MAX},
            )
        if form.get("passwordconfirm") and form.get("passwordconfirm") != password:
            errors["passwordConfirm"] = FieldError(
                "validation_values_mismatch", "Values don't match."
            )
        record = claims = None
        if form.get("token"):
            record, claims = await record_for_token(self.app, coll, form["token"], "passwordReset")
            if record is None or claims is None:
                errors["token"] = invalid_token()
        raise_if(errors)
        assert record is not None and claims is not None
        changes: dict[str, Any] = {"password": password}
        if claims.get("email") == record.get("email") and not record.get("verified"):
            changes["verified"] = True
        await store(self.app).update(coll, record["id"], changes)
        resp.status = 204


def _password_min(collection: CollectionInfo) -> int:
    """The password field's ``min`` (PocketBase's 8 by default)."""
    for field in collection.to_json().get("fields", []):
        if field.get("type") == "password":
            return int(field.get("min") or 8)
    return 8
