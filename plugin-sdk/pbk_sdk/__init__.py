"""pbk plugin SDK: everything a plugin imports (and nothing from the kernel)."""

from importlib.metadata import PackageNotFoundError, version

import pluggy

from . import events, hookspecs, interfaces, routes
from .errors import (
    ApiError,
    BadRequestError,
    FieldError,
    ForbiddenError,
    NotFoundError,
    PluginError,
    QueryTimeoutError,
    StartupError,
    UnauthorizedError,
)
from .events import Event, RequestEvent
from .interfaces import App, Migration, PluginInfo
from .routes import Route

#: Marks a plugin's hook implementations: ``@hookimpl def pbk_register_routes(app): ...``
hookimpl = pluggy.HookimplMarker("pbk")

try:
    __version__ = version("pbk-plugin-sdk")
except PackageNotFoundError:  # running from a source tree without installing
    __version__ = "0.0.0"

__all__ = [
    "ApiError",
    "App",
    "BadRequestError",
    "Event",
    "FieldError",
    "ForbiddenError",
    "Migration",
    "NotFoundError",
    "PluginError",
    "PluginInfo",
    "QueryTimeoutError",
    "RequestEvent",
    "Route",
    "StartupError",
    "UnauthorizedError",
    "events",
    "hookimpl",
    "hookspecs",
    "interfaces",
    "routes",
]
