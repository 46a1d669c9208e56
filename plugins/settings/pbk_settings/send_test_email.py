"""``POST /api/settings/test/email`` (superusers only): one of an auth collection's mails, sent
now through the mailer service to the address given, as PocketBase's ``TestEmailSend`` form.

The mail is made from a record that does not exist: every visible field holds
``__pb_test_<name>__`` (as the field type loads that text), its email is the address, its
tokenKey random. Tokens are minted for it as for a real record; the OTP is ``123456`` with id
``_PB_TEST_OTP_ID_``; the login alert reads ``<now> - TEST_IP TEST_USER_AGENT``.
"""

from __future__ import annotations

import html
import secrets
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from pbk_sdk.auth import require_superuser
from pbk_sdk.errors import ApiError, FieldError, MailNotSent
from pbk_sdk.interfaces import (
    FIELD_TYPE,
    MAILER,
    RECORD_STORE,
    TOKEN_SERVICE,
    App,
    CollectionInfo,
    Mailer,
)

from .forms import read_form
from .rules import check, collect, length, one_of, required
from .validation import EMAIL

FAILED = "Failed to send the test email."
FORM = {"email": "", "template": "", "collection": ""}
DEFAULT_COLLECTION = "_superusers"

#: Each template: where the collection keeps it, and the token type its ``{TOKEN}`` is.
TEMPLATES: dict[str, tuple[tuple[str, ...], str | None]] = {
    "verification": (("verificationTemplate",), "verification"),
    "password-reset": (("resetPasswordTemplate",), "passwordReset"),
    "email-change": (("confirmEmailChangeTemplate",), "emailChange"),
    "otp": (("otp", "emailTemplate"), None),
    "login-alert": (("authAlert", "emailTemplate"), None),
}


class EmailTestResource:
    """``/api/settings/test/email``."""

    def __init__(self, app: App) -> None:
        self.app = app

    async def on_post(self, req: Any, resp: Any) -> None:
        require_superuser(req)
        form = await read_form(req, FORM)
        errors = collect(
            collection=check(form["collection"], length(1, 255), self._auth_collection),
            email=check(form["email"], required, length(1, 255), EMAIL),
            template=check(form["template"], required, one_of(*TEMPLATES)),
        )
        if errors:
            raise ApiError(400, FAILED, errors)
        collection = self._collection(form["collection"] or DEFAULT_COLLECTION)
        try:
            await self._send(collection, form["template"], form["email"])
        except MailNotSent as error:
            raise ApiError(400, f"{FAILED} Raw error: \n{error}") from error
        resp.status = 204

    def _collection(self, id_or_name: str) -> CollectionInfo | None:
        collection = self.app.services.get(RECORD_STORE, "sqlite").collection(id_or_name)
        return collection if collection is not None and collection.type == "auth" else None

    def _auth_collection(self, value: Any) -> FieldError | None:
        if not value or self._collection(value) is not None:
            return None
        return FieldError("validation_invalid_auth_collection", "Must be a valid auth collection id or name.")

    async def _send(self, collection: CollectionInfo | None, template_name: str, email: str) -> None:
        service = mailer(self.app)
        if service is None or collection is None:
            raise MailNotSent("no mailer plugin is loaded" if service is None else "missing auth collection")
        record = self._test_record(collection, email)
        path, token_type = TEMPLATES[template_name]
        template: Any = collection.options
        for key in path:
            template = template.get(key) if isinstance(template, Mapping) else None
        params = {
            "TOKEN": self.app.services.get(TOKEN_SERVICE, "jwt").mint(record, collection, token_type)
            if token_type else "",
            "OTP": "123456",
            "OTP_ID": "_PB_TEST_OTP_ID_",
            "ALERT_INFO": html.escape(f"{_now_text()} - TEST_IP TEST_USER_AGENT"),
        }
        visible = {name: value for name, value in record.items() if name != "tokenKey"}
        message = service.compose(template if isinstance(template, Mapping) else {}, to=[("", email)],
                                  params=params, record=visible)
        meta = {"template": template_name, "collection": collection, "record": visible}
        await service.send(message, meta=meta, wait=True)

    def _test_record(self, collection: CollectionInfo, email: str) -> dict[str, Any]:
        """A record of ``collection`` with ``__pb_test_<name>__`` in each visible field."""
        record: dict[str, Any] = {}
        for field in collection.to_json().get("fields", []):
            if field.get("hidden"):
                continue
            name = str(field.get("name", ""))
            record[name] = _loaded(self.app, field, f"__pb_test_{name}__")
        record["email"] = email
        record["tokenKey"] = secrets.token_urlsafe(36)
        return record


def _loaded(app: App, field: Mapping[str, Any], text: str) -> Any:
    """``text`` as the field's type loads it (a number field makes it 0)."""
    try:
        kind = app.services.get(FIELD_TYPE, str(field.get("type", "")))
        return kind.normalize(field, text)
    except (LookupError, ValueError, TypeError):
        return text


def mailer(app: App) -> Mailer | None:
    """The ``smtp`` mailer when offered, else the only one; None when there is none to pick."""
    providers = app.services.providers(MAILER)
    try:
        return app.services.get(MAILER, "smtp" if "smtp" in providers else None) if providers else None
    except LookupError:  # several mailers, none named smtp
        return None


def _now_text() -> str:
    """Now as PocketBase prints a date: ``2026-12-05 10:11:12.345Z``."""
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] + "Z"
