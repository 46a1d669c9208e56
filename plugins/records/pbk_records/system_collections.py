"""Collections other plugins need (``pbk_register_system_collections``), created at start-up."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pbk_sdk.errors import ApiError, StartupError
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
                raise StartupError(
                    f"plugin {plugin!r}: system collection {label}: {error.message} {_details(error.data)}".rstrip()
                ) from error


def _definitions(app: App) -> list[tuple[str, list[Any]]]:
    """Each implementing plugin's definitions, in plugin (registration) order."""
    out = []
    for impl in getattr(app.hook, HOOK).get_hookimpls():
        try:
            result = impl.function(*[{"app": app}[arg] for arg in impl.argnames])
        except Exception as exc:
            raise StartupError(f"plugin {impl.plugin_name!r} failed in {HOOK}: {type(exc).__name__}: {exc}") from exc
        if result is None:
            continue
        definitions = list(result) if not isinstance(result, (Mapping, str, bytes)) else None
        if definitions is None or not all(isinstance(d, Mapping) for d in definitions):
            raise StartupError(f"plugin {impl.plugin_name!r}: {HOOK} must return collection definitions (dicts)")
        out.append((impl.plugin_name, definitions))
    return out


def _details(data: Mapping[str, Any]) -> str:
    """An ``ApiError``'s field errors on one line: ``(fields.1.name: Cannot be blank.)``."""
    problems: list[str] = []

    def walk(node: Any, path: str) -> None:
        if not isinstance(node, Mapping):
            return
        if isinstance(node.get("message"), str):
            problems.append(f"{path}: {node['message']}")
            return
        for key, value in node.items():
            walk(value, f"{path}.{key}" if path else str(key))

    walk(data, "")
    return f"({'; '.join(problems)})" if problems else ""
