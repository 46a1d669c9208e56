"""``POST /api/collections/{collection}/impersonate/{record_id}``: a superuser gets a
non-refreshable auth token of any record, for ``duration`` seconds or the collection's."""

from __future__ import annotations

from typing import Any

from pbk_sdk.auth import require_superuser
from pbk_sdk.errors import ApiError, FieldError

from . import tokens
from .forms import LOAD_FAILED, raise_if, read_form
from .login import auth_response
from .services import AuthEndpoint, store

#: PocketBase reads ``duration`` into an int64: a fraction, an exponent or a larger number
#: fails to load.
INT64_MAX = 2**63 - 1


class Impersonate(AuthEndpoint):
    """``{duration?}`` → ``{record, token}`` (401 for guests, 403 for other records)."""

    async def on_post(self, req: Any, resp: Any, collection: str, record_id: str) -> None:
        coll = self.collection(collection)
        require_superuser(req)
        form = await read_form(req)
        duration = form.get("duration", 0)
        if duration is None:
            duration = 0
        if isinstance(duration, bool) or not isinstance(duration, int) or duration > INT64_MAX:
            raise ApiError(400, LOAD_FAILED)
        if duration < 0:
            raise_if(
                {
                    "duration": FieldError(
                        "validation_min_greater_equal_than_required",
                        "Must be no less than 0.",
                        {"threshold": 0},
                    )
                }
            )
        record = await store(self.app).get(coll, record_id)
        if record is None:
            raise ApiError(404, "The requested resource wasn't found.")
        token = tokens.mint(record, coll, seconds=duration or None, refreshable=False)
        resp.media = await auth_response(self.app, coll, record, token, req, "impersonate")
