"""The oauth2 plugin: PocketBase's OAuth2 sign-in with every provider installed under the
``pbk.oauth2_providers`` entry points (see docs/oauth2.md).

It serves ``auth-with-oauth2``, ``/api/oauth2-redirect`` and the provider catalogue, offers
``auth-methods`` its providers (``app.state[OAUTH2_METHODS]``), and keeps a record's
``_externalAuths`` links in step with it (``links.py``).
"""

from __future__ import annotations

from pbk_sdk import App, PluginInfo, Route, hookimpl, routes
from pbk_sdk.interfaces import OAUTH2_METHODS

from .apple_names import CHANNEL as APPLE_NAMES_CHANNEL
from .catalogue import Catalogue
from .links import follow_records
from .methods import Methods, ProviderCatalogue
from .redirect import OAuth2Redirect
from .sign_in import AuthWithOAuth2
from .state import OAUTH2, OAuth2State

PLUGIN = PluginInfo(
    name="oauth2",
    requires=("records", "auth", "realtime"),
    description="PocketBase's OAuth2 sign-in: its providers, auth-with-oauth2, the @oauth2 redirect.",
)


@hookimpl
def pbk_register_routes(app: App) -> list[Route]:
    return [
        Route(routes.COLLECTION + "/auth-with-oauth2", AuthWithOAuth2(app)),
        Route(routes.COLLECTIONS + "/meta/oauth2-providers", ProviderCatalogue(app)),
        Route("/api/oauth2-redirect", OAuth2Redirect(app)),
    ]


@hookimpl
def pbk_startup(app: App) -> None:
    state = app.state[OAUTH2] = OAuth2State(Catalogue.installed())
    app.state[OAUTH2_METHODS] = Methods(state)
    app.cluster.on_message(APPLE_NAMES_CHANNEL, state.apple_names.asked)
    follow_records(app)


@hookimpl
async def pbk_shutdown(app: App) -> None:
    state = app.state.get(OAUTH2)
    if state is not None:
        await state.close()
