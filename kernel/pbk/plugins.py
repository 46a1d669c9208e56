"""Finding, importing and ordering plugins.

Plugins are found through the ``pbk.plugins`` entry-point group (an installed ``pbk-*``
distribution) and, for development, as ``*.py`` files in ``--pluginsDir`` (as Datasette's
``--plugins-dir``). Discovery imports nothing; only the plugins selected with ``--plugins``
(default: all) and what they require are imported. Every failure is a ``PluginError`` whose
text is one line naming the plugin.
"""

from __future__ import annotations

import importlib.util
import logging
import inspect
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from types import ModuleType
from typing import Any

import pluggy
from pbk_sdk import hookspecs
from pbk_sdk.errors import PluginError, StartupError
from pbk_sdk.interfaces import PluginInfo

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "pbk.plugins"
LOCAL_MODULE_PREFIX = "pbk_local_plugins"


@dataclass(frozen=True)
class Available:
    """A plugin that could be loaded: an entry point or a file in ``--pluginsDir``."""

    name: str
    distribution: str
    version: str
    entry_point: EntryPoint | None = None
    path: Path | None = None

    @property
    def origin(self) -> str:
        if self.path is not None:
            return str(self.path)
        return f"{self.distribution} {self.version}"

    def load(self) -> ModuleType:
        if self.entry_point is not None:
            module = self.entry_point.load()
            if not isinstance(module, ModuleType):
                raise TypeError(f"entry point {self.entry_point.value!r} is not a module")
            return module
        assert self.path is not None
        module_name = f"{LOCAL_MODULE_PREFIX}.{self.path.stem}"
        spec = importlib.util.spec_from_file_location(module_name, self.path)
        if spec is None or spec.loader is None:
            raise ImportError(f"cannot import {self.path}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        try:
            spec.loader.exec_module(module)
        except BaseException:
            sys.modules.pop(module_name, None)
            raise
        return module


@dataclass(frozen=True)
class Loaded:
    """An imported plugin module with its declared ``PLUGIN`` info."""

    info: PluginInfo
    module: ModuleType
    available: Available

    @property
    def name(self) -> str:
        return self.info.name


def discover(plugins_dir: Path | None = None) -> dict[str, Available]:
    """Every plugin that could load, by name, without importing any of them."""
    found: dict[str, Available] = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        dist = ep.dist
        candidate = Available(
            name=ep.name,
            distribution=dist.name if dist else "?",
            version=dist.version if dist else "?",
            entry_point=ep,
        )
        previous = found.get(ep.name)
        if previous is not None and previous.origin != candidate.origin:
            raise PluginError(
                f"plugin {ep.name!r} is installed twice: by {previous.origin} and by "
                f"{candidate.origin}; uninstall one"
            )
        found[ep.name] = candidate
    for path in _local_plugin_files(plugins_dir):
        name = path.stem
        if name in found:
            raise PluginError(
                f"plugin {name!r} in {path} has the name of the installed {found[name].origin}"
            )
        found[name] = Available(name=name, distribution="local", version="dev", path=path)
    return dict(sorted(found.items()))


def _local_plugin_files(plugins_dir: Path | None) -> Iterator[Path]:
    if plugins_dir is None:
        return
    if not plugins_dir.is_dir():
        raise PluginError(f"--pluginsDir {plugins_dir} is not a directory")
    for path in sorted(plugins_dir.glob("*.py")):
        if not path.name.startswith("_"):
            yield path


def import_plugin(available: Available) -> Loaded:
    """Import one plugin and read its ``PLUGIN`` info."""
    try:
        module = available.load()
    except BaseException as exc:
        if isinstance(exc, KeyboardInterrupt):
            raise
        raise PluginError(
            f"plugin {available.name!r} ({available.origin}) failed to import: "
            f"{type(exc).__name__}: {exc}"
        ) from exc
    info = getattr(module, "PLUGIN", None)
    if info is None and available.path is not None:
        info = PluginInfo(name=available.name)
    if not isinstance(info, PluginInfo):
        raise PluginError(
            f"plugin {available.name!r} ({available.origin}) has no PLUGIN = PluginInfo(...) "
            f"in {module.__name__}"
        )
    if info.name != available.name:
        raise PluginError(
            f"plugin {available.name!r} ({available.origin}) declares the name {info.name!r}; "
            f"the entry-point name and PLUGIN.name must match"
        )
    return Loaded(info=info, module=module, available=available)


def select(
    available: dict[str, Available],
    names: Iterable[str] | None,
) -> list[Loaded]:
    """Import the named plugins (all when ``names`` is None, plus every ``--pluginsDir``
    file) and what they require, ordered so requirements come first."""
    if names is None:
        wanted = list(available)
    else:
        wanted = [n for n in dict.fromkeys(names) if n]
        unknown = [n for n in wanted if n not in available]
        if unknown:
            installed = ", ".join(available) or "none"
            raise PluginError(
                f"unknown plugin {', '.join(map(repr, unknown))}; installed plugins: {installed}"
            )
        wanted += [n for n, a in available.items() if a.path is not None and n not in wanted]

    loaded: dict[str, Loaded] = {}
    pending = list(wanted)
    while pending:
        name = pending.pop(0)
        if name in loaded:
            continue
        plugin = import_plugin(available[name])
        loaded[name] = plugin
        for required in plugin.info.requires:
            if required not in available:
                raise PluginError(
                    f"plugin {name!r} requires plugin {required!r}, which is not installed"
                )
            pending.append(required)
    return _dependency_order(loaded)


def _dependency_order(loaded: dict[str, Loaded]) -> list[Loaded]:
    ordered: list[Loaded] = []
    state: dict[str, str] = {}

    def visit(name: str, chain: tuple[str, ...]) -> None:
        if state.get(name) == "done":
            return
        if state.get(name) == "visiting":
            cycle = " -> ".join((*chain, name))
            raise PluginError(f"plugins require each other in a cycle: {cycle}")
        state[name] = "visiting"
        for required in sorted(loaded[name].info.requires):
            visit(required, (*chain, name))
        state[name] = "done"
        ordered.append(loaded[name])

    for name in sorted(loaded):
        visit(name, ())
    return ordered


def plugin_manager(plugins: Iterable[Loaded]) -> pluggy.PluginManager:
    """A pluggy manager with the SDK's hookspecs and these plugins, misspelt hooks refused."""
    pm = pluggy.PluginManager("pbk")
    pm.add_hookspecs(hookspecs)
    for plugin in plugins:
        try:
            pm.register(plugin.module, name=plugin.name)
        except Exception as exc:
            raise PluginError(f"plugin {plugin.name!r} cannot register its hooks: {exc}") from exc
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        name = pm.get_name(exc.plugin) if exc.plugin is not None else "?"
        raise PluginError(f"plugin {name!r} implements an unknown hook: {exc}") from exc
    return pm


def hook_results(pm: pluggy.PluginManager, hook_name: str, **kwargs: Any) -> list[tuple[str, Any]]:
    """Call each plugin's implementation of a sync hook in plugin order, naming the plugin in
    any error; returns ``(plugin name, result)`` for results that are not None."""
    results = []
    for impl in _impls(pm, hook_name):
        try:
            result = impl.function(*[kwargs[name] for name in impl.argnames])
        except PluginError:
            raise
        except Exception as exc:
            raise PluginError(
                f"plugin {impl.plugin_name!r} failed in {hook_name}: {type(exc).__name__}: {exc}"
            ) from exc
        if inspect.isawaitable(result):
            raise PluginError(f"plugin {impl.plugin_name!r}: {hook_name} must not be async")
        if result is not None:
            results.append((impl.plugin_name, result))
    return results


async def call_async_hook(
    pm: pluggy.PluginManager,
    hook_name: str,
    *,
    reverse: bool = False,
    keep_going: bool = False,
    **kwargs: Any,
) -> None:
    """Call a hook whose implementations may be ``async def``, awaiting each in turn.

    The first failure stops the call, unless ``keep_going`` (shutdown: every plugin still gets
    its turn, failures are logged and the first is raised at the end)."""
    impls = _impls(pm, hook_name)
    failures: list[PluginError] = []
    for impl in reversed(impls) if reverse else impls:
        try:
            result = impl.function(*[kwargs[name] for name in impl.argnames])
            if inspect.isawaitable(result):
                await result
        except StartupError as exc:
            raise PluginError(f"plugin {impl.plugin_name!r} stopped the start-up: {exc}") from exc
        except Exception as exc:
            failure = PluginError(
                f"plugin {impl.plugin_name!r} failed in {hook_name}: {type(exc).__name__}: {exc}"
            )
            failure.__cause__ = exc
            if not keep_going:
                raise failure from exc
            log.error("%s", failure, exc_info=exc)
            failures.append(failure)
    if failures:
        raise failures[0]


def _impls(pm: pluggy.PluginManager, hook_name: str) -> list[Any]:
    # get_hookimpls() lists implementations in registration (= dependency) order.
    return list(getattr(pm.hook, hook_name).get_hookimpls())


def hooks_of(pm: pluggy.PluginManager, plugin_name: str) -> list[str]:
    """Names of the hooks a registered plugin implements."""
    plugin = pm.get_plugin(plugin_name)
    callers = pm.get_hookcallers(plugin) if plugin is not None else None
    return sorted(caller.name for caller in callers or ())
