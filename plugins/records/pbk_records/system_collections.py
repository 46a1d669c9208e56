"""Collections other plugins need (``pbk_register_system_collections``), created at start-up."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pbk_sdk.errors import ApiError, PluginError, StartupError
from pbk_sdk.interfaces import App

from .schema_changes import SchemaChanges

HOOK = "pbk_register_system_collections"


async def create_system_collections(app: App, changes: SchemaChanges) -> None:
    """Create each plugin's collections that do not exist yet, plugin by plugin in plugin order.

    A definition is validated as ``POST /api/collections`` validates it; one that exists by
    name is left as it is (an operator may have changed it since). A bad definition stops
    the start-up with a line naming its plugin.
    """
    for plugin, definitions in _definitions(app):
        for position, definition in enumerate(definitions):
            name = definition.get("name") if isinstance(definition, Mapping) else None
            if isinstance(name, str) and changes.registry.get(name) is not None:
                continue
            try:
                await changes.create(definition, system=bool(definition.get("system")))
            except ApiError as error:
                label = repr(name) if isinstance(name, str) and name else f"#{position}"
                raise StartupError(f"plugin {plugin!r}: system collection {label}: {error.one_line()}") from error


def _definitions(app: App) -> list[tuple[str, list[Any]]]:
    """Each implementing plugin's definitions, in the order the kernel calls hooks."""
    try:
        results = app.call_hook(HOOK, app=app)
    except PluginError as exc:
        # A failed definition hook stops the start-up, as a bad definition does.
        raise StartupError(str(exc)) from exc
    out = []
    for plugin, result in results:
        definitions = list(result) if not isinstance(result, (Mapping, str, bytes)) else None
        if definitions is None or not all(isinstance(d, Mapping) for d in definitions):
            raise StartupError(f"plugin {plugin!r}: {HOOK} must return collection definitions (dicts)")
        out.append((plugin, definitions))
    return out

