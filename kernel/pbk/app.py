"""The pbk application: plugins wired together around the kernel's services.

Building an ``App`` imports the selected plugins and calls the build-time hooks (settings,
services, routes, middleware); ``start()`` opens the databases, applies migrations, loads the
settings and runs ``pbk_startup``; ``stop()`` reverses it. ``app.asgi`` is what uvicorn serves,
and its lifespan calls ``start``/``stop``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pbk_sdk.errors import PluginError
from pbk_sdk.events import TERMINATE, TerminateEvent
from pbk_sdk.hookspecs import SERVICE_HOOKS
from pbk_sdk.interfaces import Migration
from pbk_sdk.state import AppState

from .cluster import Cluster
from .config import Config
from .events import EventBus
from .http import AsgiApp, build_falcon_app
from .migrations import apply_migrations
from .plugins import Loaded, call_async_hook, discover, hook_results, plugin_manager, select
from .runtime_routes import RuntimeRoutes
from .services import ServiceRegistry
from .settings import Settings, encryption_key
from .storage import open_databases


class App:
    """A pbk app over one data dir; see the module docstring for its life cycle."""

    def __init__(self, config: Config, plugins: Iterable[Loaded]) -> None:
        self.config = config
        self.log = logging.getLogger("pbk")
        self.loaded = list(plugins)
        self.plugins = tuple(p.info for p in self.loaded)
        self._pm = plugin_manager(self.loaded)
        self.hook = self._pm.hook
        self.events = EventBus()
        self.db, self.aux_db = open_databases(config)
        # A database every node shares may offer a cluster backend: joined by each served worker.
        driver = getattr(self.db, "driver", None)
        self.cluster = Cluster(config.data_dir, backend=getattr(driver, "cluster_backend", None))
        self.routes = RuntimeRoutes(self.events)
        self.state = AppState(self)
        self.settings = Settings(
            self.db, self.events, encryption_key(config.encryption_env), on_saved=self.cluster.changed
        )
        self.cluster.on_sync(self.settings.refresh)
        self.services = ServiceRegistry(self)
        self._declare_settings()
        for kind, hook_name in SERVICE_HOOKS.items():
            for plugin, providers in hook_results(self._pm, hook_name, app=self):
                self.services.add(kind, plugin, providers)
        routes = [
            (plugin, route)
            for plugin, plugin_routes in hook_results(self._pm, "pbk_register_routes", app=self)
            for route in plugin_routes
        ]
        middleware = [
            item
            for _, items in hook_results(self._pm, "pbk_register_middleware", app=self)
            for item in items
        ]
        try:
            api = build_falcon_app(config, self.events, routes, middleware, self.routes)
        except ValueError as exc:
            raise PluginError(str(exc)) from exc
        self.asgi = AsgiApp(self, api, config.max_body_size)
        self._lifecycle = asyncio.Lock()
        self._started = False
        self._terminated = False

    @property
    def data_dir(self) -> Path:
        return self.config.data_dir

    def call_hook(self, name: str, **kwargs: Any) -> list[tuple[str, Any]]:
        """What the SDK's ``App.call_hook`` promises: the kernel's own loop, for plugins."""
        return hook_results(self._pm, name, **kwargs)

    def _declare_settings(self) -> None:
        owners: dict[str, str] = {}
        for plugin, defaults in hook_results(self._pm, "pbk_declare_settings", app=self):
            for key in defaults:
                if key in owners:
                    raise PluginError(
                        f"plugins {owners[key]!r} and {plugin!r} both declare the setting {key!r}"
                    )
                owners[key] = plugin
            self.settings.declare(defaults)

    def migrations(self) -> list[tuple[str, Migration]]:
        """The kernel's and every plugin's system migrations, in the order they apply."""
        pairs: list[tuple[str, Migration]] = []
        for plugin, items in hook_results(self._pm, "pbk_register_migrations", app=self):
            pairs.extend((plugin, m) for m in items)
        return pairs

    def prepare_data_dir(self, *, after_failed_start: bool = False) -> bool:
        """Run ``pbk_prepare_data_dir`` before any process of this server opens the data dir
        (``pbk serve`` calls it at every start and restart, never a worker); True when a plugin
        says a failed first start should call it again with ``after_failed_start``."""
        self.config.data_dir.mkdir(parents=True, exist_ok=True)
        results = hook_results(self._pm, "pbk_prepare_data_dir", app=self, data_dir=self.config.data_dir,
                               after_failed_start=after_failed_start)
        return any(result for _, result in results)

    async def start(self) -> None:
        """Open the databases, migrate, load settings, run ``pbk_startup``; idempotent."""
        async with self._lifecycle:
            if self._started:
                return
            self.config.data_dir.mkdir(parents=True, exist_ok=True)
            await self.db.open()
            await self.aux_db.open()
            try:
                # Nodes started together on one database start one at a time (as a node's workers do).
                async with self.cluster.exclusive("start"):
                    await apply_migrations(self.migrations(), self.db, self.aux_db)
                    await self.settings.load()
                    await call_async_hook(self._pm, "pbk_startup", app=self)
            except BaseException:
                await self.db.close()
                await self.aux_db.close()
                raise
            self._started = True

    async def terminate(self) -> None:
        """Fire ``terminate`` once: when a server starts shutting down (so long-lived
        responses such as realtime streams can end), or at ``stop()`` otherwise."""
        if not self._terminated:
            self._terminated = True
            await self.events.trigger(TERMINATE, TerminateEvent(app=self))

    async def stop(self) -> None:
        """Fire ``terminate``, run ``pbk_shutdown`` in reverse dependency order, close the DBs."""
        async with self._lifecycle:
            if not self._started:
                return
            self._started = False
            try:
                await self.terminate()
                await call_async_hook(self._pm, "pbk_shutdown", reverse=True, keep_going=True, app=self)
            finally:
                self.cluster.resign()
                await self.db.close()
                await self.aux_db.close()


def build_app(config: Config | None = None, **overrides: Any) -> App:
    """Discover and import the plugins ``config`` selects, then build the app.

    ``build_app(data_dir=tmp, plugins=["records"])`` is the usual call in tests.
    """
    if config is None:
        config = Config(**overrides)
    elif overrides:
        raise TypeError("pass either a Config or keyword overrides, not both")
    available = discover(config.plugins_dir)
    return App(config, select(available, config.plugins))
