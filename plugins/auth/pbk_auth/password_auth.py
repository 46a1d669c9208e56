"""``POST /api/collections/{collection}/auth-with-password``: PocketBase's password sign-in,
optionally checked by a swappable ``auth_backend`` (``settings.authBackend``) first."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from pbk_sdk import App
from pbk_sdk.auth import SUPERUSERS, password_hasher
from pbk_sdk.errors import ApiError, FieldError
from pbk_sdk.formats import is_email
from pbk_sdk.interfaces import AUTH_BACKEND, AuthBackend, CollectionInfo

from .forms import LOAD_FAILED, blank_errors, raise_if, read_form
from .login import finish_login
from .services import AuthEndpoint, random_password, store

AUTH_FAILED = "Failed to authenticate."
#: ``settings.authBackend``: which ``auth_backend`` service checks passwords, and where.
AUTH_BACKEND_DEFAULTS: dict[str, Any] = {"name": "", "collections": [], "createMissing": True}
#: A bcrypt hash of nothing anyone types: checked against when the identity is unknown, so an
#: unknown identity costs the time a wrong password does.
DUMMY_HASH = "$2b$10$tDma6Tp45VBvOJQdkmQQcunhjWl96H7tdxiwJpbMED2y/iuBJGd8a"


class AuthWithPassword(AuthEndpoint):
    """``{identity, password, identityField?}`` → ``{record, token}`` (or the MFA step)."""

    async def on_post(self, req: Any, resp: Any, collection: str) -> None:
        coll = self.collection(collection)
        options = coll.options.get("passwordAuth") or {}
        if not options.get("enabled"):
            raise ApiError(
                403, "The collection is not configured to allow password authentication."
            )
        form = await read_form(req)
        identity, password, fields = _credentials(form, list(options.get("identityFields") or []))
        record = await self._from_backend(coll, identity, password)
        if record is None:
            record = await self._check_locally(coll, identity, password, fields)
        await finish_login(self.app, req, resp, coll, record, "password", form)

    async def _from_backend(
        self, collection: CollectionInfo, identity: str, password: str
    ) -> dict[str, Any] | None:
        """The local record of an identity the configured ``auth_backend`` vouches for, or None."""
        backend = configured_backend(self.app, collection)
        if backend is None:
            return None
        found = await backend.authenticate(collection.name, identity, password)
        if not found:
            return None
        records = store(self.app)
        record = None
        if found.get("id"):
            record = await records.get(collection, str(found["id"]))
        if record is None and found.get("email"):
            record = await records.find(collection, "email", str(found["email"]))
        if (
            record is None
            and self.app.settings.get("authBackend.createMissing", True)
            and found.get("email")
        ):
            names = {f.get("name") for f in collection.to_json().get("fields", [])} - {
                "password",
                "tokenKey",
                "id",
            }
            data = {k: v for k, v in found.items() if k in names}
            data.update({"password": random_password(), "verified": True})
            record = await records.create(collection, data)
        if record is None:
            raise ApiError(400, AUTH_FAILED)
        return record

    async def _check_locally(
        self, collection: CollectionInfo, identity: str, password: str, fields: list[str]
    ) -> dict[str, Any]:
        """The record ``identity`` names in one of ``fields`` if ``password`` is its password."""
        record = await self._find(collection, identity, fields)
        ok = record is not None and await asyncio.to_thread(
            password_hasher(self.app).verify, password, str(record.get("password", ""))
        )
        if not ok:
            if record is None:  # the same work as a wrong password: no timing oracle
                await asyncio.to_thread(password_hasher(self.app).verify, password, DUMMY_HASH)
            raise ApiError(400, AUTH_FAILED)
        assert record is not None
        return record

    async def _find(
        self, collection: CollectionInfo, identity: str, fields: list[str]
    ) -> dict[str, Any] | None:
        for name in fields:
            if name == "email" and not is_email(identity):
                continue
            try:
                record = await store(self.app).find(collection, name, identity)
            except ValueError:
                continue
            if record is not None:
                return record
        return None


def _credentials(form: Mapping[str, Any], identity_fields: list[str]) -> tuple[str, str, list[str]]:
    """The identity, the password and the fields to look the identity up in."""
    identity, password = form.get("identity"), form.get("password")
    field = form.get("identityfield") or ""
    if not all(isinstance(v, str) for v in (identity or "", password or "", field)):
        raise ApiError(400, LOAD_FAILED)
    errors = blank_errors(form, "identity", "password")
    if field and field not in identity_fields:
        errors["identityField"] = FieldError("validation_in_invalid", "Must be a valid value.")
    raise_if(errors)
    return str(identity), str(password), [field] if field else identity_fields


def configured_backend(app: App, collection: CollectionInfo) -> AuthBackend | None:
    """The ``auth_backend`` named by ``settings.authBackend.name`` when it covers ``collection``."""
    name = str(app.settings.get("authBackend.name", "") or "")
    if not name:
        return None
    covered = list(app.settings.get("authBackend.collections", []) or [])
    if covered and collection.name not in covered and collection.id not in covered:
        return None
    if not covered and collection.name == SUPERUSERS:
        return None
    try:
        return app.services.get(AUTH_BACKEND, name)
    except LookupError:
        app.log.error(
            "settings.authBackend.name is %r but no such auth_backend is registered", name
        )
        return None
