"""``app.services``: swappable services offered by plugins, by kind and provider name."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pbk_sdk.errors import PluginError


class ServiceRegistry:
    """Providers collected from the ``pbk_register_*`` service hooks at build time."""

    def __init__(self, app: Any) -> None:
        self._app = app
        self._providers: dict[str, dict[str, tuple[str, Any]]] = {}
        self._instances: dict[tuple[str, str], Any] = {}

    def add(self, kind: str, plugin: str, providers: Mapping[str, Any]) -> None:
        """Register ``plugin``'s providers; two plugins offering one name stop the start-up."""
        known = self._providers.setdefault(kind, {})
        for name, provider in providers.items():
            if name in known:
                raise PluginError(
                    f"plugins {known[name][0]!r} and {plugin!r} both provide the {kind} {name!r}"
                )
            known[name] = (plugin, provider)

    def providers(self, kind: str) -> dict[str, Any]:
        return {name: provider for name, (_, provider) in self._providers.get(kind, {}).items()}

    def provided_by(self, kind: str, name: str) -> str:
        return self._providers[kind][name][0]

    def get(self, kind: str, name: str | None = None) -> Any:
        known = self._providers.get(kind, {})
        if name is None:
            if len(known) != 1:
                names = ", ".join(sorted(known)) or "none"
                raise LookupError(f"choose a {kind} by name; installed: {names}")
            name = next(iter(known))
        if name not in known:
            names = ", ".join(sorted(known)) or "none"
            raise LookupError(f"no {kind} named {name!r}; installed: {names}")
        key = (kind, name)
        if key not in self._instances:
            self._instances[key] = known[name][1](self._app)
        return self._instances[key]
