"""PocketBase's one-time passwords: ``request-otp`` mails a code, ``auth-with-otp`` signs in
with it. Codes are stored bcrypt-hashed in ``_otps`` and used once."""

from __future__ import annotations

import asyncio
import string
from collections.abc import Mapping
from typing import Any

from pbk_sdk import App
from pbk_sdk.auth import password_hasher
from pbk_sdk.errors import ApiError
from pbk_sdk.ids import new_id
from pbk_sdk.interfaces import CollectionInfo

from .counters import otp_try, otp_untry
from .forms import read_email, read_fields
from .login import finish_login
from .mail import send_template
from .services import (
    AuthEndpoint,
    find_by_email,
    random_password,
    seconds_since,
    store,
    system_collection,
)

OTPS = "_otps"
INVALID_OTP = "Invalid or expired OTP."
OTP_MAX_LIVE = 10  # live codes per record before the latest id is returned again


def otp_options(collection: CollectionInfo) -> dict[str, Any]:
    """The collection's ``otp`` options; 403 when OTP sign-in is off."""
    otp: dict[str, Any] = collection.options.get("otp") or {}
    if not otp.get("enabled"):
        raise ApiError(403, "The collection is not configured to allow OTP authentication.")
    return otp


class RequestOtp(AuthEndpoint):
    """``POST …/request-otp`` ``{email}`` → ``{otpId}`` (also for unknown emails)."""

    async def on_post(self, req: Any, resp: Any, collection: str) -> None:
        coll = self.collection(collection)
        otp_options(coll)
        record = await find_by_email(self.app, coll, await read_email(req))
        if record is None:
            # The same bcrypt work a real code costs, so timing does not tell who exists.
            await asyncio.to_thread(password_hasher(self.app).hash, new_id())
            resp.media = {"otpId": new_id()}
            return
        otp_id, _ = await create_otp(self.app, coll, record, send=True)
        resp.media = {"otpId": otp_id}


async def create_otp(
    app: App, collection: CollectionInfo, record: Mapping[str, Any], *, send: bool
) -> tuple[str, str]:
    """Store a new code in ``_otps`` (hashed, as PocketBase does) and mail it; (id, code).

    After ``OTP_MAX_LIVE`` live codes (outside ``--dev``) the latest id comes back, code ``""``."""
    otp = collection.options.get("otp") or {}
    duration = int(otp.get("duration") or 180)
    otps = system_collection(app, OTPS)
    stored = await store(app).find_all(
        otps, {"collectionRef": collection.id, "recordRef": record["id"]}, sort="-created"
    )
    live = [row["id"] for row in stored if seconds_since(row["created"]) < duration]
    if send and len(live) >= OTP_MAX_LIVE and not app.config.dev:
        return str(live[0]), ""
    code = new_id(int(otp.get("length") or 8), string.digits)
    otp_id = new_id()
    email = str(record.get("email") or "")
    await store(app).create(
        otps,
        {
            "id": otp_id,
            "collectionRef": collection.id,
            "recordRef": str(record["id"]),
            "password": code,
            "sentTo": email if send else "",
        },
    )  # the records plugin hashes the code, as PocketBase stores it
    if send and email:
        await send_template(
            app,
            collection,
            record,
            otp.get("emailTemplate"),
            "otp",
            email,
            {"OTP": code, "OTP_ID": otp_id},
        )
    return otp_id, code


class AuthWithOtp(AuthEndpoint):
    """``POST …/auth-with-otp`` ``{otpId, password, mfaId?}`` → ``{record, token}``."""

    async def on_post(self, req: Any, resp: Any, collection: str) -> None:
        coll = self.collection(collection)
        otp = otp_options(coll)
        form = await read_fields(req, "otpId", "password", optional=("mfaId",))
        code = await self._use_code(coll, otp, form["otpid"], form["password"])
        record = await store(self.app).get(coll, str(code.get("recordRef")))
        if record is None:
            raise ApiError(400, INVALID_OTP)
        sent_to = str(code.get("sentTo") or "")
        if sent_to and sent_to == record.get("email") and not record.get("verified"):
            # The code reached the record's inbox: that proves the address, as a
            # verification mail would.
            changes: dict[str, Any] = {"verified": True}
            if not (coll.options.get("mfa") or {}).get("enabled"):
                changes["password"] = random_password()
            record = await store(self.app).update(coll, record["id"], changes)
        await finish_login(self.app, req, resp, coll, record, "otp", form)

    async def _use_code(
        self, collection: CollectionInfo, otp: Mapping[str, Any], otp_id: str, password: str
    ) -> dict[str, Any]:
        """The ``_otps`` row, deleted, when ``password`` is its code and it is still valid;
        400 otherwise, 429 after OTP_MAX_TRIES failures for the record."""
        otps = system_collection(self.app, OTPS)
        found = await store(self.app).get(otps, otp_id)
        if found is None or found.get("collectionRef") != collection.id:
            raise ApiError(400, INVALID_OTP)
        record_id = str(found.get("recordRef"))
        # NOTE: the attempt counts before the (slow, awaited) check, so parallel guesses
        # cannot all pass the limit; a right guess takes its attempt back.
        if not await otp_try(self.app, collection, record_id):
            raise ApiError(429, "Too Many Requests.")
        expired = seconds_since(str(found.get("created", ""))) > int(otp.get("duration") or 180)
        ok = not expired and await asyncio.to_thread(
            password_hasher(self.app).verify, password, str(found.get("password", ""))
        )
        if not ok:
            raise ApiError(400, INVALID_OTP)
        await otp_untry(self.app, collection, record_id)
        await store(self.app).delete(otps, found["id"])  # single use, even if MFA refuses later
        return found
