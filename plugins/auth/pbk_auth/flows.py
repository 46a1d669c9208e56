"""PocketBase's sign-in flows besides password and refresh: methods, OTP, MFA, verification,
password reset, email change, impersonation, login alerts."""

from __future__ import annotations

import asyncio
import hashlib
import html
import logging
import secrets
import string
import time
import weakref
import zlib
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import orjson
from pbk_sdk.auth import SUPERUSERS, RequestAuth, request_auth, require_superuser
from pbk_sdk.errors import ApiError, FieldError, WorkerUnreachable
from pbk_sdk.ids import new_id

from . import tokens
from .common import (
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

log = logging.getLogger("pbk.auth")

NEEDS_AUTH = "The request requires valid record authorization token."
INVALID_OTP = "Invalid or expired OTP."
INVALID_MFA = "Invalid or expired MFA session."
OTPS, MFAS, ORIGINS = "_otps", "_mfas", "_authOrigins"
RESEND_THROTTLE = 120.0  # seconds between two verification / reset mails for one record
OTP_MAX_LIVE = 10  # live codes per record before the latest id is returned again
OTP_MAX_TRIES = 5  # failed attempts per record within OTP_TRY_WINDOW
OTP_TRY_WINDOW = 180.0
MAX_ORIGINS = 5



def random_password() -> str:
    return secrets.token_urlsafe(24)


class State:
    """In-memory counters (resend throttles, OTP attempts). With several worker processes each
    key is kept by one worker (``counter``), so the limits hold whichever worker a request
    reaches."""

    def __init__(self) -> None:
        self.last_sent: dict[tuple[str, ...], float] = {}
        self.otp_tries: dict[tuple[str, ...], list[float]] = {}

    def throttle(self, key: tuple[str, ...]) -> bool:
        """True if ``key`` was let through less than RESEND_THROTTLE ago; else count it now."""
        now = time.monotonic()
        if now - self.last_sent.get(key, -RESEND_THROTTLE) < RESEND_THROTTLE:
            return True
        self.last_sent[key] = now
        return False

    def otp_try(self, key: tuple[str, ...]) -> float | None:
        """Count an attempt (its stamp), or None when OTP_MAX_TRIES are used up."""
        now = time.monotonic()
        tries = [t for t in self.otp_tries.get(key, []) if now - t < OTP_TRY_WINDOW]
        if len(tries) >= OTP_MAX_TRIES:
            self.otp_tries[key] = tries
            return None
        self.otp_tries[key] = [*tries, now]
        return now

    def otp_untry(self, key: tuple[str, ...], stamp: float) -> None:
        """A right guess takes its attempt back."""
        remaining = [t for t in self.otp_tries.get(key, []) if t != stamp]
        if remaining:
            self.otp_tries[key] = remaining
        else:
            self.otp_tries.pop(key, None)

    async def answer(self, worker: int, data: bytes) -> bytes:
        """A counter operation asked by ``counter`` (from this worker or another)."""
        operation, key, stamp = orjson.loads(data)
        if operation == "throttle":
            return orjson.dumps(self.throttle(tuple(key)))
        if operation == "otp_try":
            return orjson.dumps(self.otp_try(tuple(key)))
        self.otp_untry(tuple(key), stamp)
        return b"null"


_states: weakref.WeakKeyDictionary[Any, State] = weakref.WeakKeyDictionary()
COUNTERS_CHANNEL = "auth.counters"


def state(app: Any) -> State:
    if app not in _states:
        _states[app] = State()
    return _states[app]


async def counter(app: Any, operation: str, key: tuple[str, ...], stamp: float = 0.0) -> Any:
    """Run ``operation`` on the worker that keeps ``key`` (the only one, with one worker).
    Fails closed: a worker that cannot answer counts as a limit reached."""
    owner = zlib.crc32("\0".join(key).encode()) % app.cluster.workers
    try:
        return orjson.loads(await app.cluster.call(owner, COUNTERS_CHANNEL, orjson.dumps([operation, key, stamp])))
    except WorkerUnreachable:
        log.warning("the worker keeping auth counters did not answer; refusing %s", operation)
        return True if operation == "throttle" else None


def parse_time(value: str) -> float:
    try:
        return datetime.strptime(value, "%Y-%m-%d %H:%M:%S.%fZ").replace(tzinfo=UTC).timestamp()
    except (TypeError, ValueError):
        return 0.0


def now_text() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] + "Z"


def required(errors: dict[str, FieldError], form: Mapping[str, Any], *names: str) -> None:
    for name in names:
        if not form.get(name.lower()):
            errors[name] = FieldError("validation_required", "Cannot be blank.")


def strings(form: Mapping[str, Any], *names: str) -> None:
    for name in names:
        value = form.get(name.lower())
        if value is not None and not isinstance(value, str):
            raise ApiError(400, LOAD_FAILED)


def check_email(errors: dict[str, FieldError], form: Mapping[str, Any], name: str) -> None:

    value = form.get(name.lower())
    if value and not EMAIL.match(value):
        errors[name] = FieldError("validation_is_email", "Must be a valid email address.")


def fail_if(errors: Mapping[str, FieldError]) -> None:
    if errors:
        raise ApiError(400, VALIDATION_FAILED, dict(errors))


# --------------------------------------------------------------------------- mail


def mailer(app: Any) -> Any:
    """The mailer service (``smtp`` when several are offered), or None without a mailer plugin."""
    providers = app.services.providers("mailer")
    if not providers:
        return None
    name = "smtp" if "smtp" in providers else next(iter(providers)) if len(providers) == 1 else None
    return app.services.get("mailer", name) if name else None


async def send_template(
    app: Any, collection: Any, record: Mapping[str, Any], template: Mapping[str, Any] | None, kind: str,
    to: str, params: Mapping[str, Any],
) -> None:
    service = mailer(app)
    if service is None:
        log.warning("no mailer plugin loaded: %s mail to %s not sent", kind, to)
        return
    hidden = {f["name"] for f in collection.to_json()["fields"] if f.get("hidden")}
    visible = {name: value for name, value in record.items() if name not in hidden}
    message = service.compose(template or {}, to=[("", to)], params=params, record=visible)
    await service.send(message, meta={"template": kind, "collection": collection, "record": visible})


async def throttled(app: Any, kind: str, collection: Any, record_id: str) -> bool:
    return bool(await counter(app, "throttle", (kind, collection.id, record_id)))


# --------------------------------------------------------------------------- finishing a login


async def finish_login(app: Any, req: Any, resp: Any, coll: Any, record: Mapping[str, Any], method: str,
                       form: Mapping[str, Any]) -> None:
    """authRule, the MFA step, login alerts, then ``{record, token}``."""

    await check_auth_rule(app, coll, record, method)
    mfa = coll.options.get("mfa") or {}
    if mfa.get("enabled") and await _mfa_applies(app, coll, record, str(mfa.get("rule") or "")):
        mfa_id = form.get("mfaid") or req.get_param("mfaId") or ""
        if not isinstance(mfa_id, str):
            raise ApiError(400, LOAD_FAILED)
        if not mfa_id:
            created = await store(app).create(store(app).collection(MFAS), {
                "id": new_id(), "collectionRef": coll.id, "recordRef": record["id"], "method": method})
            resp.status = 401
            resp.media = {"mfaId": created["id"]}
            return
        await _complete_mfa(app, coll, record, method, mfa_id, int(mfa.get("duration") or 600))
    await auth_alert(app, req, coll, record)
    token = tokens.mint(record, coll)
    resp.media = await auth_response(app, coll, record, token, req)


async def _mfa_applies(app: Any, coll: Any, record: Mapping[str, Any], rule: str) -> bool:
    if not rule.strip():
        return True
    own = RequestAuth(record=record, collection_id=coll.id, collection_name=coll.name)
    return await store(app).matches_rule(coll, record["id"], rule, own)


async def _complete_mfa(app: Any, coll: Any, record: Mapping[str, Any], method: str, mfa_id: str, duration: int) -> None:
    mfas = store(app).collection(MFAS)
    found = await store(app).get(mfas, mfa_id)
    if (
        found is None
        or found.get("collectionRef") != coll.id
        or found.get("recordRef") != record["id"]
        or time.time() - parse_time(str(found.get("created", ""))) > duration
    ):
        raise ApiError(400, INVALID_MFA)
    if found.get("method") == method:
        raise ApiError(400, "A different authentication method is required.")
    await store(app).delete(mfas, mfa_id)


def client_ip(req: Any) -> str:
    return str(getattr(req, "remote_addr", "") or "")


async def auth_alert(app: Any, req: Any, coll: Any, record: Mapping[str, Any]) -> None:
    """Remember the login origin (IP + User-Agent); mail an alert for a new one (not the first)."""
    ip, agent = client_ip(req), req.get_header("User-Agent") or ""
    fingerprint = hashlib.md5((ip + agent).encode()).hexdigest()
    origins_coll = store(app).collection(ORIGINS)
    if origins_coll is None:
        return

    known = [
        (row["id"], row["fingerprint"])
        for row in await store(app).find_all(
            origins_coll, {"collectionRef": coll.id, "recordRef": record["id"]}, sort="-updated"
        )
    ]
    match = next((oid for oid, fp in known if fp == fingerprint), None)
    if match is not None:
        await store(app).update(origins_coll, match, {"fingerprint": fingerprint})  # bumps `updated`
        return
    await store(app).create(origins_coll, {"collectionRef": coll.id, "recordRef": record["id"], "fingerprint": fingerprint})
    for old_id, _ in known[MAX_ORIGINS - 1:]:
        await store(app).delete(origins_coll, old_id)
    alert = coll.options.get("authAlert") or {}
    if known and alert.get("enabled") and record.get("email"):
        info = html.escape(f"{now_text()} - {ip} {agent}")  # the User-Agent is the client's text
        await send_template(app, coll, record, alert.get("emailTemplate"), "login-alert", str(record["email"]),
                            {"ALERT_INFO": info})


# --------------------------------------------------------------------------- resources


class Base:
    def __init__(self, app: Any) -> None:
        self.app = app

    def collection(self, name: str) -> Any:
        return auth_collection(self.app, name)

    def otp_options(self, coll: Any) -> dict[str, Any]:
        """The collection's ``otp`` options; 403 when OTP sign-in is off."""
        otp = coll.options.get("otp") or {}
        if not otp.get("enabled"):
            raise ApiError(403, "The collection is not configured to allow OTP authentication.")
        return otp

    async def form(self, req: Any) -> dict[str, Any]:
        return await read_form(req)

    async def find_by_email(self, coll: Any, email: str) -> dict[str, Any] | None:
        try:
            return await store(self.app).find(coll, "email", email)
        except ValueError:
            return None


class AuthMethods(Base):
    """``GET /api/collections/{c}/auth-methods``."""

    async def on_get(self, req: Any, resp: Any, collection: str) -> None:
        coll = self.collection(collection)
        options = coll.options
        password = options.get("passwordAuth") or {}
        oauth2 = options.get("oauth2") or {}
        mfa = options.get("mfa") or {}
        otp = options.get("otp") or {}
        identity_fields = list(password.get("identityFields") or [])
        providers: list[Any] = []  # OAuth2 providers come with the OAuth2 issue
        resp.media = {
            "password": {"identityFields": identity_fields, "enabled": bool(password.get("enabled"))},
            "oauth2": {"providers": providers, "enabled": bool(oauth2.get("enabled"))},
            "mfa": {"enabled": bool(mfa.get("enabled")), "duration": int(mfa.get("duration") or 600) if mfa.get("enabled") else 0},
            "otp": {"enabled": bool(otp.get("enabled")), "duration": int(otp.get("duration") or 180) if otp.get("enabled") else 0},
            "authProviders": providers,
            "usernamePassword": bool(password.get("enabled")) and "username" in identity_fields,
            "emailPassword": bool(password.get("enabled")) and "email" in identity_fields,
        }


class RequestOtp(Base):
    """``POST /api/collections/{c}/request-otp`` ``{email}`` → ``{otpId}`` (also for unknown emails)."""

    async def on_post(self, req: Any, resp: Any, collection: str) -> None:
        coll = self.collection(collection)
        self.otp_options(coll)  # 403 when OTP sign-in is off
        form = await self.form(req)
        strings(form, "email")
        errors: dict[str, FieldError] = {}
        required(errors, form, "email")
        check_email(errors, form, "email")
        fail_if(errors)
        record = await self.find_by_email(coll, form["email"])
        if record is None:
            # The same bcrypt work a real code costs, so timing does not tell who exists.
            await asyncio.to_thread(hasher(self.app).hash, new_id())
            resp.media = {"otpId": new_id()}
            return
        otp_id, _ = await create_otp(self.app, coll, record, send=True)
        resp.media = {"otpId": otp_id}


async def create_otp(app: Any, coll: Any, record: Mapping[str, Any], *, send: bool) -> tuple[str, str]:
    """Store a new code in ``_otps`` (hashed, as PocketBase does) and mail it; (id, code).

    After ``OTP_MAX_LIVE`` live codes (outside ``--dev``) the latest id comes back, code ``""``."""
    otp = coll.options.get("otp") or {}
    duration = int(otp.get("duration") or 180)

    otps = store(app).collection(OTPS)
    stored = await store(app).find_all(otps, {"collectionRef": coll.id, "recordRef": record["id"]}, sort="-created")
    rows = [(row["id"], row["created"]) for row in stored if time.time() - parse_time(row["created"]) < duration]
    if send and len(rows) >= OTP_MAX_LIVE and not getattr(app.config, "dev", False):
        return str(rows[0][0]), ""
    code = "".join(secrets.choice(string.digits) for _ in range(int(otp.get("length") or 8)))
    otp_id = new_id()
    email = str(record.get("email") or "")
    await store(app).create(otps, {
        "id": otp_id, "collectionRef": coll.id, "recordRef": str(record["id"]), "password": code,
        "sentTo": email if send else "",
    })  # the records plugin hashes the code, as PocketBase stores it
    if send and email:
        await send_template(app, coll, record, otp.get("emailTemplate"), "otp", email, {"OTP": code, "OTP_ID": otp_id})
    return otp_id, code


class AuthWithOtp(Base):
    """``POST /api/collections/{c}/auth-with-otp`` ``{otpId, password, mfaId?}``."""

    async def on_post(self, req: Any, resp: Any, collection: str) -> None:
        coll = self.collection(collection)
        otp = self.otp_options(coll)
        form = await self.form(req)
        strings(form, "otpId", "password", "mfaId")
        errors: dict[str, FieldError] = {}
        required(errors, form, "otpId", "password")
        fail_if(errors)
        otps = store(self.app).collection(OTPS)
        found = await store(self.app).get(otps, form["otpid"])
        if found is None or found.get("collectionRef") != coll.id:
            raise ApiError(400, INVALID_OTP)
        key = (coll.id, str(found.get("recordRef")))
        # NOTE: the attempt counts before the (slow, awaited) check, so parallel guesses
        # cannot all pass the limit; a right guess takes its attempt back.
        stamp = await counter(self.app, "otp_try", key)
        if stamp is None:
            raise ApiError(429, "Too Many Requests.")
        expired = time.time() - parse_time(str(found.get("created", ""))) > int(otp.get("duration") or 180)
        ok = not expired and await asyncio.to_thread(hasher(self.app).verify, form["password"], str(found.get("password", "")))
        if not ok:
            raise ApiError(400, INVALID_OTP)
        await counter(self.app, "otp_untry", key, stamp)
        await store(self.app).delete(otps, found["id"])  # single use, even if MFA refuses below
        record = await store(self.app).get(coll, str(found.get("recordRef")))
        if record is None:
            raise ApiError(400, INVALID_OTP)
        sent_to = str(found.get("sentTo") or "")
        if sent_to and sent_to == record.get("email") and not record.get("verified"):
            changes: dict[str, Any] = {"verified": True}
            if not (coll.options.get("mfa") or {}).get("enabled"):
                changes["password"] = random_password()
            record = await store(self.app).update(coll, record["id"], changes)
        await finish_login(self.app, req, resp, coll, record, "otp", form)


class RequestVerification(Base):
    async def on_post(self, req: Any, resp: Any, collection: str) -> None:
        coll = self.collection(collection)
        if coll.name == SUPERUSERS:
            raise ApiError(400, "All superusers are verified by default.")
        form = await self.form(req)
        strings(form, "email")
        errors: dict[str, FieldError] = {}
        required(errors, form, "email")
        check_email(errors, form, "email")
        fail_if(errors)
        record = await self.find_by_email(coll, form["email"])
        if record is not None and not record.get("verified") and not await throttled(self.app, "verification", coll, record["id"]):
            token = tokens.mint(record, coll, "verification", extra={"email": record["email"]})
            await send_template(self.app, coll, record, coll.options.get("verificationTemplate"), "verification",
                                str(record["email"]), {"TOKEN": token})
        resp.status = 204


async def record_for_token(app: Any, coll: Any, token: str, token_type: str) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """(record, verified claims) of a token of ``token_type`` for ``coll``."""
    claims = tokens.unverified_claims(token)
    if claims is None or claims.get("collectionId") != coll.id:
        return None, None
    record = await store(app).get(coll, claims["id"])
    if record is None:
        return None, None
    return record, tokens.verify(token, record, coll, token_type)


def invalid_token() -> FieldError:
    return FieldError("validation_invalid_token", "Invalid or expired token.")


class ConfirmVerification(Base):
    async def on_post(self, req: Any, resp: Any, collection: str) -> None:
        coll = self.collection(collection)
        form = await self.form(req)
        strings(form, "token")
        errors: dict[str, FieldError] = {}
        required(errors, form, "token")
        fail_if(errors)
        if not (tokens.unverified_claims(form["token"]) or {}).get("email"):
            fail_if({"token": FieldError("validation_invalid_token_claims", "Missing email token claim.")})
        record, claims = await record_for_token(self.app, coll, form["token"], "verification")
        if record is None or claims is None:
            fail_if({"token": invalid_token()})
        assert record is not None and claims is not None
        if claims.get("email") != record.get("email"):
            fail_if({"token": FieldError("validation_token_email_mismatch", "The token email doesn't match the record email.")})
        if coll.name == SUPERUSERS:
            raise ApiError(400, "All superusers are verified by default.")
        if not record.get("verified"):
            await store(self.app).update(coll, record["id"], {"verified": True})
        resp.status = 204


class RequestPasswordReset(Base):
    async def on_post(self, req: Any, resp: Any, collection: str) -> None:
        coll = self.collection(collection)
        form = await self.form(req)
        strings(form, "email")
        errors: dict[str, FieldError] = {}
        required(errors, form, "email")
        check_email(errors, form, "email")
        fail_if(errors)
        record = await self.find_by_email(coll, form["email"])
        if record is not None and not await throttled(self.app, "passwordReset", coll, record["id"]):
            token = tokens.mint(record, coll, "passwordReset", extra={"email": record["email"]})
            await send_template(self.app, coll, record, coll.options.get("resetPasswordTemplate"), "password-reset",
                                str(record["email"]), {"TOKEN": token})
        resp.status = 204


def password_limits(coll: Any) -> tuple[int, int]:
    for field in coll.to_json().get("fields", []):
        if field.get("type") == "password":
            return int(field.get("min") or 8), 255
    return 8, 255


class ConfirmPasswordReset(Base):
    async def on_post(self, req: Any, resp: Any, collection: str) -> None:
        coll = self.collection(collection)
        form = await self.form(req)
        strings(form, "token", "password", "passwordConfirm")
        errors: dict[str, FieldError] = {}
        required(errors, form, "token", "password", "passwordConfirm")
        password = form.get("password") or ""
        low, high = password_limits(coll)
        if password and not low <= len(password) <= high:
            errors["password"] = FieldError("validation_length_out_of_range", f"The length must be between {low} and {high}.",
                                            {"min": low, "max": high})
        if form.get("passwordconfirm") and form.get("passwordconfirm") != password:
            errors["passwordConfirm"] = FieldError("validation_values_mismatch", "Values don't match.")
        record = claims = None
        if form.get("token"):
            record, claims = await record_for_token(self.app, coll, form["token"], "passwordReset")
            if record is None or claims is None:
                errors["token"] = invalid_token()
        fail_if(errors)
        assert record is not None and claims is not None
        changes: dict[str, Any] = {"password": password}
        if claims.get("email") == record.get("email") and not record.get("verified"):
            changes["verified"] = True
        await store(self.app).update(coll, record["id"], changes)
        resp.status = 204


class RequestEmailChange(Base):
    async def on_post(self, req: Any, resp: Any, collection: str) -> None:
        coll = self.collection(collection)
        auth = request_auth(req)
        if auth is None:
            raise ApiError(401, NEEDS_AUTH)
        if auth.collection_id != coll.id:
            raise ApiError(403, f"The request requires auth record from {coll.name} collection.")
        form = await self.form(req)
        strings(form, "newEmail")
        errors: dict[str, FieldError] = {}
        required(errors, form, "newEmail")
        check_email(errors, form, "newEmail")
        fail_if(errors)
        new_email = form["newemail"]
        if new_email == auth.record.get("email") or await self.find_by_email(coll, new_email) is not None:
            fail_if({"newEmail": FieldError("validation_invalid_new_email", "Invalid new email address.")})
        record = dict(auth.record)
        token = tokens.mint(record, coll, "emailChange", extra={"email": record.get("email", ""), "newEmail": new_email})
        await send_template(self.app, coll, record, coll.options.get("confirmEmailChangeTemplate"), "email-change",
                            new_email, {"TOKEN": token})
        resp.status = 204


class ConfirmEmailChange(Base):
    async def on_post(self, req: Any, resp: Any, collection: str) -> None:
        coll = self.collection(collection)
        form = await self.form(req)
        strings(form, "token", "password")
        errors: dict[str, FieldError] = {}
        required(errors, form, "token", "password")
        fail_if(errors)
        record = claims = None
        if not (tokens.unverified_claims(form["token"]) or {}).get("newEmail"):
            errors["token"] = FieldError("validation_invalid_token_payload", "Invalid token payload - newEmail must be set.")
        else:
            record, claims = await record_for_token(self.app, coll, form["token"], "emailChange")
            if record is None or claims is None:
                errors["token"] = invalid_token()
        ok = record is not None and await asyncio.to_thread(hasher(self.app).verify, form["password"], str(record.get("password", "")))
        if not ok:
            errors["password"] = FieldError("validation_invalid_password", "Missing or invalid auth record password.")
        fail_if(errors)
        assert record is not None and claims is not None
        new_email = str(claims["newEmail"])
        other = await self.find_by_email(coll, new_email)
        if other is not None and other["id"] != record["id"]:
            fail_if({"token": FieldError("validation_invalid_new_email", "Invalid new email address.")})
        await store(self.app).update(coll, record["id"], {"email": new_email, "verified": True})
        resp.status = 204


class Impersonate(Base):
    """``POST /api/collections/{c}/impersonate/{id}`` (superusers): a non-refreshable token."""

    async def on_post(self, req: Any, resp: Any, collection: str, record_id: str) -> None:

        coll = self.collection(collection)
        require_superuser(req)
        form = await self.form(req)
        duration = form.get("duration", 0)
        if duration is None:
            duration = 0
        if isinstance(duration, bool) or not isinstance(duration, int | float):
            raise ApiError(400, LOAD_FAILED)
        if duration < 0:
            fail_if({"duration": FieldError("validation_min_greater_equal_than_required", "Must be no less than 0.",
                                            {"threshold": 0})})
        record = await store(self.app).get(coll, record_id)
        if record is None:
            raise ApiError(404, "The requested resource wasn't found.")
        token = tokens.mint(record, coll, seconds=int(duration) or None, refreshable=False)
        resp.media = await auth_response(self.app, coll, record, token, req)
