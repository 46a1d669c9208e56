"""The oauth2 plugin: PocketBase's OAuth2 sign-in with every provider installed under the
``pbk.oauth2_providers`` entry points (see docs/oauth2.md).

It serves ``auth-with-oauth2``, ``/api/oauth2-redirect`` and the provider catalogue, offers
``auth-methods`` its providers (``app.state[OAUTH2_METHODS]``), and drops a record's
``_externalAuths`` links once the record is deleted or becomes verified.
"""

from __future__ import annotations

import string
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from pbk_sdk import App, PluginInfo, Route, hookimpl, routes
from pbk_sdk.auth import require_superuser
from pbk_sdk.events import RECORD_AFTER_DELETE_SUCCESS, RECORD_UPDATE, RecordEvent
from pbk_sdk.ids import new_id
from pbk_sdk.interfaces import OAUTH2_METHODS, CollectionInfo

from .accounts import external_auths, store
from .catalogue import Catalogue
from .methods import Methods
from .protocol import TIMEOUT_SECONDS
from .redirect import OAuth2Redirect
from .sign_in import AuthWithOAuth2
from .state import OAUTH2, OAuth2State

TOKEN_KEY_ALPHABET = string.ascii_letters + string.digits

PLUGIN = PluginInfo(
    name="oauth2",
    requires=("records", "auth", "realtime"),
    description="PocketBase's OAuth2 sign-in: its providers, auth-with-oauth2, the @oauth2 redirect.",
)


class ProviderCatalogue:
    """``GET /api/collections/meta/oauth2-providers`` (superusers): every installed provider,
    for the dashboard's provider picker."""

    def __init__(self, app: App) -> None:
        self.app = app

    async def on_get(self, req: Any, resp: Any) -> None:
        require_superuser(req)
        resp.media = self.app.state[OAUTH2].catalogue.listing()


@hookimpl
def pbk_register_routes(app: App) -> list[Route]:
    return [
        Route(routes.COLLECTION + "/auth-with-oauth2", AuthWithOAuth2(app)),
        Route(routes.COLLECTIONS + "/meta/oauth2-providers", ProviderCatalogue(app)),
        Route("/api/oauth2-redirect", OAuth2Redirect(app)),
    ]


@hookimpl
def pbk_startup(app: App) -> None:
    state = app.state[OAUTH2] = OAuth2State(Catalogue.installed(),
                                            httpx.AsyncClient(timeout=TIMEOUT_SECONDS))
    app.state[OAUTH2_METHODS] = Methods(state.catalogue, state.http)
    app.events.on(RECORD_AFTER_DELETE_SUCCESS, unlinker(app), collections=is_auth)
    app.events.on(RECORD_UPDATE, verified_upgrade(app), collections=is_auth)


@hookimpl
async def pbk_shutdown(app: App) -> None:
    state = app.state.get(OAUTH2)
    if state is not None:
        await state.http.aclose()


def is_auth(collection: CollectionInfo) -> bool:
    return collection.type == "auth"


def verified_upgrade(app: App) -> Callable[[RecordEvent], Awaitable[None]]:
    async def unlink_on_verify(e: RecordEvent) -> None:
        """A record that becomes verified loses the links it had and gets a new ``tokenKey``
        (its old tokens stop working), as in PocketBase: whoever linked an account to an
        address not yet proven cannot keep it."""
        if e.original is not None and not e.original.get("verified") and e.record.get("verified"):
            links = external_auths(app)
            found = await store(app).find_all(links, {"collectionRef": e.collection.id,
                                                      "recordRef": e.record["id"]})
            for link in found:
                await store(app).delete(links, link["id"])
            if found:
                e.record["tokenKey"] = new_id(50, TOKEN_KEY_ALPHABET)
        await e.next()

    return unlink_on_verify


def unlinker(app: App) -> Callable[[RecordEvent], Awaitable[None]]:
    async def unlink_deleted(e: RecordEvent) -> None:
        """A deleted record's provider links go with it, as in PocketBase."""
        links = external_auths(app)
        for link in await store(app).find_all(links, {"collectionRef": e.collection.id,
                                                      "recordRef": e.record["id"]}):
            await store(app).delete(links, link["id"])
        await e.next()

    return unlink_deleted
