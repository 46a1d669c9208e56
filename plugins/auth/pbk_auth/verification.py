"""Email verification: ``request-verification`` mails a ``verification`` token,
``confirm-verification`` marks the record verified. Superusers are always verified."""

from __future__ import annotations

from typing import Any

from pbk_sdk.auth import SUPERUSERS
from pbk_sdk.errors import ApiError, FieldError

from . import tokens
from .counters import throttled
from .forms import invalid_token, raise_if, read_email, read_fields
from .mail import mail_token
from .services import AuthEndpoint, find_by_email, store
from .token_service import record_for_token

SUPERUSERS_VERIFIED = "All superusers are verified by default."


class RequestVerification(AuthEndpoint):
    """``POST …/request-verification`` ``{email}`` → 204, mail or not (one a record per 2 min)."""

    async def on_post(self, req: Any, resp: Any, collection: str) -> None:
        coll = self.collection(collection)
        if coll.name == SUPERUSERS:
            raise ApiError(400, SUPERUSERS_VERIFIED)
        record = await find_by_email(self.app, coll, await read_email(req))
        if (
            record is not None
            and not record.get("verified")
            and not await throttled(self.app, "verification", coll, record["id"])
        ):
            await mail_token(self.app, coll, record, "verification")
        resp.status = 204


class ConfirmVerification(AuthEndpoint):
    """``POST …/confirm-verification`` ``{token}`` → 204 (again for a verified record)."""

    async def on_post(self, req: Any, resp: Any, collection: str) -> None:
        coll = self.collection(collection)
        token = (await read_fields(req, "token"))["token"]
        if not (tokens.unverified_claims(token) or {}).get("email"):
            raise_if(
                {
                    "token": FieldError(
                        "validation_invalid_token_claims", "Missing email token claim."
                    )
                }
            )
        record, claims = await record_for_token(self.app, coll, token, "verification")
        if record is None or claims is None:
            raise_if({"token": invalid_token()})
        assert record is not None and claims is not None
        if claims.get("email") != record.get("email"):
            raise_if(
                {
                    "token": FieldError(
                        "validation_token_email_mismatch",
                        "The token email doesn't match the record email.",
                    )
                }
            )
        if coll.name == SUPERUSERS:
            raise ApiError(400, SUPERUSERS_VERIFIED)
        if not record.get("verified"):
            await store(self.app).update(coll, record["id"], {"verified": True})
        resp.status = 204
