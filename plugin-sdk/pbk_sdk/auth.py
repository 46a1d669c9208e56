"""Who made a request: set by the auth plugin, read by every other plugin.

The auth plugin verifies the ``Authorization`` token and stores a ``RequestAuth`` in
``req.context.auth``; a guest request has ``None`` there (a bad or expired token makes a
request a guest request, as in PocketBase, not an error).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .errors import ApiError
from .interfaces import PASSWORD_HASHER, App, PasswordHasher

SUPERUSERS = "_superusers"
#: PocketBase's algorithm; ``settings.passwordHasher.name`` picks another ``password_hasher``.
DEFAULT_PASSWORD_HASHER = "bcrypt"
SUPERUSERS_ID = "pbc_3142635823"


@dataclass(frozen=True)
class RequestAuth:
    """The authenticated record as stored now (not the token's snapshot)."""

    record: Mapping[str, Any]
    collection_id: str
    collection_name: str

    @property
    def id(self) -> str:
        return str(self.record.get("id", ""))

    @property
    def is_superuser(self) -> bool:
        return self.collection_name == SUPERUSERS


#: Nobody signed in, for ``RecordStore`` writes that must apply a guest's rules (``auth=None``
#: writes as the system): OAuth2 sign-up creates its record so, as PocketBase's internal request.
GUEST = RequestAuth(record={}, collection_id="", collection_name="")


def request_auth(req: Any) -> RequestAuth | None:
    return getattr(req.context, "auth", None)


def require_superuser(req: Any) -> RequestAuth:
    """The superuser making ``req``; PocketBase's 401 for guests and 403 for other records."""
    auth = request_auth(req)
    if auth is None:
        raise ApiError(401, "The request requires valid record authorization token.")
    if not auth.is_superuser:
        raise ApiError(403, "The authorized record is not allowed to perform this action.")
    return auth


def is_superuser(req: Any) -> bool:
    auth = request_auth(req)
    return auth is not None and auth.is_superuser


def password_hasher(app: App) -> PasswordHasher:
    """The ``password_hasher`` service the settings name (``bcrypt`` unless changed). A new one
    must still verify the hashes already stored, or existing users cannot sign in."""
    name = app.settings.get("passwordHasher.name") or DEFAULT_PASSWORD_HASHER
    return app.services.get(PASSWORD_HASHER, name)
