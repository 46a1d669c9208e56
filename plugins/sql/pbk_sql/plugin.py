"""The sql plugin: PocketBase 0.40's SQL console API, ``POST /api/sql``."""

from __future__ import annotations

from pbk_sdk import PluginInfo, Route, hookimpl
from pbk_sdk.interfaces import App

from .resource import SqlConsole

PLUGIN = PluginInfo(
    name="sql",
    requires=("auth",),
    description="POST /api/sql: a superuser's SQL query on data.db, answered as PocketBase does.",
)


@hookimpl
def pbk_register_routes(app: App) -> list[Route]:
    return [Route("/api/sql", SqlConsole(app))]
