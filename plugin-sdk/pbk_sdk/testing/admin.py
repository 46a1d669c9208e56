"""A superuser of the in-process app, and collections created as it through the REST API.

Both need the records plugin (the ``_superusers`` collection and ``/api/collections``) and
the auth plugin (the token service); the default ``pbk_plugins`` loads them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import falcon.testing
import pytest

from ..errors import ApiError
from ..interfaces import RECORD_STORE, TOKEN_SERVICE, App, ServiceKind
from .extra import async_fixture

T = TypeVar("T")

SUPERUSERS = "_superusers"
SUPERUSER_EMAIL = "superuser@example.com"
SUPERUSER_PASSWORD = "superuser-password"

#: What the ``create_collection`` fixture gives: ``await create_collection({...})``.
CreateCollection = Callable[[Mapping[str, Any]], Awaitable[dict[str, Any]]]


@dataclass(frozen=True)
class Superuser:
    """A superuser of the test app, signed in: send ``headers`` to act as it."""

    id: str
    email: str
    password: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        """``{"Authorization": token}``, as PocketBase's SDKs send it."""
        return {"Authorization": self.token}


def service(app: App, kind: ServiceKind[T], user: str) -> T:
    """The only provider of ``kind``; fails the test saying which plugin to load if none is."""
    try:
        return app.services.get(kind)
    except LookupError as error:
        pytest.fail(f"{user} needs a {kind} service ({error}): add the plugin that offers it "
                    "(records for record_store, auth for token_service) to pbk_plugins",
                    pytrace=False)


@async_fixture
async def pbk_superuser(pbk_app: App) -> Superuser:
    """A superuser created in ``pbk_app`` (``superuser@example.com``) with an auth token, as
    ``pbk superuser create`` and a password sign-in would give."""
    store = service(pbk_app, RECORD_STORE, "the pbk_superuser fixture")
    tokens = service(pbk_app, TOKEN_SERVICE, "the pbk_superuser fixture")
    superusers = store.collection(SUPERUSERS)
    if superusers is None:
        pytest.fail("the pbk_superuser fixture needs the _superusers collection (records plugin)",
                    pytrace=False)
    record = await store.create(
        superusers, {"email": SUPERUSER_EMAIL, "password": SUPERUSER_PASSWORD, "verified": True}
    )
    token = tokens.mint(record, superusers, "auth")
    return Superuser(record["id"], SUPERUSER_EMAIL, SUPERUSER_PASSWORD, token)


@pytest.fixture
def create_collection(
    pbk_client: falcon.testing.ASGIConductor, pbk_superuser: Superuser
) -> CreateCollection:
    """``await create_collection({"name": "posts", "fields": [...]})``: create a collection
    from PocketBase's collection JSON through ``POST /api/collections`` as ``pbk_superuser``,
    so it is validated exactly as the API validates it. Returns the collection's JSON; an
    invalid one raises ``ApiError`` with the API's status, message and field errors."""

    async def create(collection: Mapping[str, Any]) -> dict[str, Any]:
        result = await pbk_client.post(
            "/api/collections", json=dict(collection), headers=pbk_superuser.headers
        )
        answer: dict[str, Any] = result.json
        if result.status_code != 200:
            raise ApiError(result.status_code, answer.get("message", ""), answer.get("data"))
        return answer

    return create
