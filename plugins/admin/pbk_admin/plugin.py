"""The admin plugin: serves the dashboard's built files under ``/_/``."""

from __future__ import annotations

from pbk_sdk import PluginInfo, Route, hookimpl
from pbk_sdk.interfaces import DASHBOARD_PATH, App

from .assets import DIST, Assets, DashboardFiles, DashboardRedirect, Features

PLUGIN = PluginInfo(
    name="admin",
    requires=("records", "auth"),
    description="The dashboard at /_/: first superuser, sign-in, collections and records.",
)


@hookimpl
def pbk_register_routes(app: App) -> list[Route]:
    files = DashboardFiles(Assets.load(DIST))
    return [
        Route("/_", DashboardRedirect()),
        Route("/_/", files, suffix="index"),
        Route("/api/admin/features", Features(app)),
        Route("/_/{path:path}", files),
    ]


@hookimpl
def pbk_banner_lines(app: App) -> list[tuple[str, str]]:
    return [("Dashboard", "/_/")]


@hookimpl
def pbk_startup(app: App) -> None:
    """Tell other plugins where the dashboard is (the oauth2 redirect sends the provider's
    popup to its ``#/auth/oauth2-redirect-*`` pages)."""
    app.state[DASHBOARD_PATH] = "/_/"
