"""The realtime plugin's hooks: PocketBase's ``/api/realtime`` and the built-in brokers.

``service.py`` holds the per-app service (clients, broker, subscriptions), ``resources.py`` the
HTTP side, ``hub.py`` the clients and the fan-out, ``broker.py`` the brokers.
"""

from __future__ import annotations

from collections.abc import Callable

from pbk_sdk import PluginInfo, Route, hookimpl, routes
from pbk_sdk.events import REALTIME_CONNECT_REQUEST, REALTIME_SUBSCRIBE_REQUEST
from pbk_sdk.interfaces import REALTIME_CLIENTS, App, RealtimeBroker
from pbk_sdk.request_events import evented

from .broker import MemoryBroker, WorkersBroker
from .resources import RealtimeResource
from .service import REALTIME, Realtime, RealtimeConfig

PLUGIN = PluginInfo(name="realtime", requires=("records",), description="Server-Sent Events, rule-checked.")


@hookimpl
def pbk_register_realtime_brokers(app: App) -> dict[str, Callable[[App], RealtimeBroker]]:
    return {"memory": lambda app: MemoryBroker(), "workers": lambda app: WorkersBroker(app.cluster)}


@hookimpl
def pbk_register_routes(app: App) -> list[Route]:
    names = {"on_get": REALTIME_CONNECT_REQUEST, "on_post": REALTIME_SUBSCRIBE_REQUEST}
    return [Route(routes.REALTIME, evented(app, RealtimeResource(app), names))]


@hookimpl
async def pbk_startup(app: App) -> None:
    realtime = app.state[REALTIME] = Realtime(app, RealtimeConfig.from_environment())
    app.state[REALTIME_CLIENTS] = realtime
    await realtime.start()


@hookimpl
async def pbk_shutdown(app: App) -> None:
    realtime = app.state.get(REALTIME)
    if realtime is not None:
        await realtime.stop()
