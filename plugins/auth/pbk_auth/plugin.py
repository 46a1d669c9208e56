"""Who is asking: tokens, password sign-in, superusers, the bcrypt hasher."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import click
from pbk_sdk import PluginInfo, Route, hookimpl
from pbk_sdk.auth import DEFAULT_PASSWORD_HASHER, SUPERUSERS, RequestAuth, request_auth
from pbk_sdk.cli import with_app
from pbk_sdk.errors import ApiError, FieldError
from pbk_sdk.events import SERVE

from . import flows, tokens
from .common import (
    AUTH_FAILED,
    EMAIL,
    LOAD_FAILED,
    VALIDATION_FAILED,
    auth_collection,
    auth_response,
    check_auth_rule,
    hasher,
    read_form,
    store,
)
from .hashing import BcryptHasher

PLUGIN = PluginInfo(name="auth", requires=("records",), description="Tokens, every sign-in flow, superusers.")

INSTALLER_EMAIL = "__pbinstaller@example.com"
INSTALLER_TOKEN_SECONDS = 1800
#: ``settings.authBackend``: which ``auth_backend`` service checks passwords, and where.
AUTH_BACKEND_DEFAULTS: dict[str, Any] = {"name": "", "collections": [], "createMissing": True}

class AuthMiddleware:
    """Sets ``req.context.auth`` from a valid auth token; anything else makes a guest."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def process_request(self, req: Any, resp: Any) -> None:
        req.context.auth = None
        token = tokens.from_header(req.get_header("Authorization"))
        if token:
            req.context.auth = await authenticate_token(self.app, token)


async def authenticate_token(app: Any, token: str, token_type: str = tokens.AUTH) -> RequestAuth | None:
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
        tokens.remember(token, token_type, tokens.signing_key(record, collection, token_type), verified)
    return RequestAuth(record=record, collection_id=collection.id, collection_name=collection.name)


class AuthWithPassword:
    """``POST /api/collections/{collection}/auth-with-password``."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def on_post(self, req: Any, resp: Any, collection: str) -> None:
        coll = auth_collection(self.app, collection)
        password_auth = coll.options.get("passwordAuth") or {}
        if not password_auth.get("enabled"):
            raise ApiError(403, "The collection is not configured to allow password authentication.")
        form = await read_form(req)
        identity, password = form.get("identity"), form.get("password")
        field = form.get("identityfield") or ""
        if not all(isinstance(v, str) for v in (identity or "", password or "", field)):
            raise ApiError(400, LOAD_FAILED)
        errors = {}
        if not identity:
            errors["identity"] = FieldError("validation_required", "Cannot be blank.")
        if not password:
            errors["password"] = FieldError("validation_required", "Cannot be blank.")
        identity_fields = list(password_auth.get("identityFields") or [])
        if field and field not in identity_fields:
            errors["identityField"] = FieldError("validation_in_invalid", "Must be a valid value.")
        if errors:
            raise ApiError(400, VALIDATION_FAILED, errors)
        record = await self._from_backend(coll, identity, password)
        if record is None:
            record = await self._find(coll, identity, [field] if field else identity_fields)
            ok = record is not None and await asyncio.to_thread(
                hasher(self.app).verify, password, str(record.get("password", ""))
            )
            if not ok:
                if record is None:  # the same work as a wrong password: no timing oracle
                    await asyncio.to_thread(hasher(self.app).verify, password, DUMMY_HASH)
                raise ApiError(400, AUTH_FAILED)
        await flows.finish_login(self.app, req, resp, coll, record, "password", form)

    async def _from_backend(self, collection: Any, identity: str, password: str) -> dict[str, Any] | None:
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
        if record is None and self.app.settings.get("authBackend.createMissing", True) and found.get("email"):
            names = {f.get("name") for f in collection.to_json().get("fields", [])} - {"password", "tokenKey", "id"}
            data = {k: v for k, v in found.items() if k in names}
            data.update({"password": flows.random_password(), "verified": True})
            record = await records.create(collection, data)
        if record is None:
            raise ApiError(400, AUTH_FAILED)
        return record

    async def _find(self, collection: Any, identity: str, fields: list[str]) -> dict[str, Any] | None:
        for name in fields:
            if name == "email" and not EMAIL.match(identity):
                continue
            try:
                record = await store(self.app).find(collection, name, identity)
            except ValueError:
                continue
            if record is not None:
                return record
        return None


DUMMY_HASH = "$2b$10$tDma6Tp45VBvOJQdkmQQcunhjWl96H7tdxiwJpbMED2y/iuBJGd8a"


def configured_backend(app: Any, collection: Any) -> Any:
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
        return app.services.get("auth_backend", name)
    except LookupError:
        app.log.error("settings.authBackend.name is %r but no such auth_backend is registered", name)
        return None


class AuthRefresh:
    """``POST /api/collections/{collection}/auth-refresh``: a fresh token for the current auth."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def on_post(self, req: Any, resp: Any, collection: str) -> None:
        coll = auth_collection(self.app, collection)
        auth = request_auth(req)
        if auth is None:
            raise ApiError(401, "The request requires valid record authorization token.")
        if auth.collection_id != coll.id:
            raise ApiError(403, f"The request requires auth record from {coll.name} collection.")
        await check_auth_rule(self.app, coll, auth.record, "default")
        token = tokens.from_header(req.get_header("Authorization")) or ""
        claims = tokens.unverified_claims(token) or {}
        if claims.get("refreshable", True):
            token = tokens.mint(auth.record, coll)
        resp.media = await auth_response(self.app, coll, auth.record, token, req)


# --------------------------------------------------------------------------- hooks


class JwtTokens:
    """The ``token_service`` other plugins use to mint and check PocketBase's tokens."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def mint(self, record: Mapping[str, Any], collection: Any, token_type: str, *, seconds: int | None = None) -> str:
        return tokens.mint(record, collection, token_type, seconds=seconds)

    async def verify(self, token: str, token_type: str) -> RequestAuth | None:
        return await authenticate_token(self.app, token, token_type)


@hookimpl
def pbk_register_token_services(app: Any) -> dict[str, Any]:
    return {"jwt": JwtTokens}


@hookimpl
def pbk_register_password_hashers(app: Any) -> dict[str, Any]:
    return {"bcrypt": lambda app: BcryptHasher()}


@hookimpl
def pbk_register_middleware(app: Any) -> list[Any]:
    return [AuthMiddleware(app)]


@hookimpl
def pbk_register_routes(app: Any) -> list[Route]:
    base = "/api/collections/{collection}"
    return [
        Route(f"{base}/auth-with-password", AuthWithPassword(app)),
        Route(f"{base}/auth-refresh", AuthRefresh(app)),
        Route(f"{base}/auth-methods", flows.AuthMethods(app)),
        Route(f"{base}/request-otp", flows.RequestOtp(app)),
        Route(f"{base}/auth-with-otp", flows.AuthWithOtp(app)),
        Route(f"{base}/request-verification", flows.RequestVerification(app)),
        Route(f"{base}/confirm-verification", flows.ConfirmVerification(app)),
        Route(f"{base}/request-password-reset", flows.RequestPasswordReset(app)),
        Route(f"{base}/confirm-password-reset", flows.ConfirmPasswordReset(app)),
        Route(f"{base}/request-email-change", flows.RequestEmailChange(app)),
        Route(f"{base}/confirm-email-change", flows.ConfirmEmailChange(app)),
        Route(f"{base}/impersonate/{{record_id}}", flows.Impersonate(app)),
    ]


@hookimpl
def pbk_declare_settings(app: Any) -> dict[str, Any]:
    return {"authBackend": dict(AUTH_BACKEND_DEFAULTS), "passwordHasher": {"name": DEFAULT_PASSWORD_HASHER}}


@hookimpl
async def pbk_startup(app: Any) -> None:
    async def on_serve(event: Any) -> None:
        await installer_on_serve(app, event)

    async def on_superuser_created(event: Any) -> None:
        await drop_installer(app, event)

    app.events.on(SERVE, on_serve)
    app.events.on("record_after_create_success", on_superuser_created, collections=[SUPERUSERS])
    app.cluster.on_message(flows.COUNTERS_CHANNEL, flows.state(app).answer)


async def installer_on_serve(app: Any, event: Any) -> None:
    """No superuser yet: a hidden installer account and its link, as PocketBase prints it
    (by the first worker only, when there are several)."""
    if app.cluster.worker != 0:
        await event.next()
        return
    try:
        link = await installer_link(app, event.address)
    except Exception:
        app.log.exception("could not create the installer link")
        link = None
    if link:
        click.echo(
            "\n(!) Launch the URL below in the browser if it hasn't been open already to create your first "
            f"superuser account:\n{link}\n(you can also create your first superuser by running: pbk superuser "
            "upsert EMAIL PASS)\n"
        )
    await event.next()


async def installer_link(app: Any, address: str) -> str | None:
    collection = store(app).collection(SUPERUSERS)
    if collection is None:
        return None
    installer = await store(app).find(collection, "email", INSTALLER_EMAIL)
    if await store(app).count(collection) > (1 if installer else 0):
        return None
    if installer is None:
        installer = await store(app).create(
            collection, {"email": INSTALLER_EMAIL, "password": flows.random_password(), "verified": True})
    token = tokens.mint(installer, collection, seconds=INSTALLER_TOKEN_SECONDS, refreshable=False)
    return f"http://{address}/_/#/pbinstall/{token}"


async def drop_installer(app: Any, event: Any) -> None:
    """The first real superuser replaces the installer account."""
    await event.next()
    if event.record.get("email") == INSTALLER_EMAIL:
        return
    collection = store(app).collection(SUPERUSERS)
    installer = await store(app).find(collection, "email", INSTALLER_EMAIL)
    if installer is not None:
        await store(app).delete(collection, installer["id"])


@hookimpl
def pbk_register_commands(cli: Any) -> None:
    cli.add_command(superuser)


# --------------------------------------------------------------------------- CLI


@click.group()
def superuser() -> None:
    """Manage superusers."""


def _superusers(app: Any) -> Any:
    return store(app).collection(SUPERUSERS)


def _check_email(email: str) -> None:
    if not EMAIL.match(email):
        raise click.ClickException("missing or invalid email address")


def _field_errors(error: ApiError) -> str:
    return "; ".join(f"{name}: {detail.get('message', '')}" for name, detail in error.data.items() if isinstance(detail, dict)) or error.message


@superuser.command()
@click.argument("email")
@click.argument("password")
@with_app
async def create(app: Any, email: str, password: str) -> None:
    """Create a superuser."""
    _check_email(email)
    try:
        await store(app).create(_superusers(app), {"email": email, "password": password, "verified": True})
    except ApiError as error:
        raise click.ClickException(f"failed to create new superuser account: {_field_errors(error)}") from error
    click.echo(f'Successfully created new superuser "{email}"!')


@superuser.command()
@click.argument("email")
@click.argument("password")
@with_app
async def upsert(app: Any, email: str, password: str) -> None:
    """Create a superuser or change its password."""
    _check_email(email)
    collection = _superusers(app)
    existing = await store(app).find(collection, "email", email)
    try:
        if existing is None:
            await store(app).create(collection, {"email": email, "password": password, "verified": True})
        else:
            await store(app).update(collection, existing["id"], {"password": password})
    except ApiError as error:
        raise click.ClickException(f"failed to save superuser account: {_field_errors(error)}") from error
    click.echo(f'Successfully saved superuser "{email}"!')


@superuser.command()
@click.argument("email")
@click.argument("password")
@with_app
async def update(app: Any, email: str, password: str) -> None:
    """Change a superuser's password."""
    collection = _superusers(app)
    existing = await store(app).find(collection, "email", email)
    if existing is None:
        raise click.ClickException(f'superuser with email "{email}" doesn\'t exist')
    try:
        await store(app).update(collection, existing["id"], {"password": password})
    except ApiError as error:
        raise click.ClickException(f"failed to change superuser password: {_field_errors(error)}") from error
    click.echo(f'Successfully changed superuser "{email}" password!')


@superuser.command()
@click.argument("email")
@with_app
async def delete(app: Any, email: str) -> None:
    """Delete a superuser (never the last one)."""
    collection = _superusers(app)
    existing = await store(app).find(collection, "email", email)
    if existing is None:
        click.echo(f'superuser "{email}" is missing or already deleted')
        return
    if await store(app).count(collection) <= 1:
        raise click.ClickException("you cannot delete the only existing superuser")
    await store(app).delete(collection, existing["id"])
    click.echo(f'Successfully deleted superuser "{email}"!')


@superuser.command()
@click.argument("email")
@with_app
async def otp(app: Any, email: str) -> None:
    """Create a one-time password for a superuser (OTP must be enabled on _superusers)."""
    collection = _superusers(app)
    options = collection.options.get("otp") or {}
    if not options.get("enabled"):
        raise click.ClickException("OTP auth is not enabled for the _superusers collection")
    existing = await store(app).find(collection, "email", email)
    if existing is None:
        raise click.ClickException(f'superuser with email "{email}" doesn\'t exist')
    otp_id, code = await flows.create_otp(app, collection, existing, send=False)
    click.echo(f'Successfully created OTP for superuser "{email}":')
    click.echo(f"├─ Id:    {otp_id}")
    click.echo(f"├─ Pass:  {code}")
    click.echo(f"└─ Valid: {int(options.get('duration') or 180)}s")
