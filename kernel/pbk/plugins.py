"""Finding, importing and ordering plugins.

Plugins are found through the ``pbk.plugins`` entry-point group (an installed ``pbk-*``
distribution) and, for development, as ``*.py`` files in ``--pluginsDir`` (as Datasette's
``--plugins-dir``). Discovery imports nothing; only the plugins selected with ``--plugins``
(default: all) and what they require are imported. Every failure is a ``PluginError`` whose
text is one line naming the plugin.

Hooks are called in pluggy's order, by the kernel's loops below (which name the plugin in
errors and await async implementations), by ``app.call_hook()`` and by ``app.hook.x()`` alike:
``tryfirst`` implementations in dependency order, then the others in dependency order, then
``trylast`` ones in reverse dependency order (pluggy runs those first-registered-first).
Shutdown keeps the groups in place (``tryfirst`` first, ``trylast`` last) and runs each in
reverse dependency order. ``PBK_TRACE_HOOKS=1`` logs every call to ``pbk.hooks``.
"""

from __future__ import annotations

import importlib.util
import inspect
import logging
import os
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from types import ModuleType
from typing import Any

import pluggy
from pbk_sdk import hookspecs
from pbk_sdk.errors import PluginError, StartupError
from pbk_sdk.interfaces import PluginInfo
from pluggy import HookImpl

log = logging.getLogger(__name__)
trace_log = logging.getLogger("pbk.hooks")

ENTRY_POINT_GROUP = "pbk.plugins"
LOCAL_MODULE_PREFIX = "pbk_local_plugins"
TRACE_ENV = "PBK_TRACE_HOOKS"


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
    return load(available, selection(available, names))


def selection(available: dict[str, Available], names: Iterable[str] | None) -> list[str]:
    """The plugins ``names`` selects: all when None, else the names (each checked to be
    installed) plus every ``--pluginsDir`` file."""
    if names is None:
        return list(available)
    wanted = known_names(available, names)
    return wanted + [n for n, a in available.items() if a.path is not None and n not in wanted]


def load(available: dict[str, Available], wanted: list[str]) -> list[Loaded]:
    """Import the ``wanted`` plugins (known to be installed) and what they require, ordered so
    requirements come first."""
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


def known_names(available: dict[str, Available], names: Iterable[str]) -> list[str]:
    """The names as given (blank ones and repeats dropped); any unknown name is refused in one
    line listing what is installed."""
    wanted = [n for n in dict.fromkeys(names) if n]
    unknown = [n for n in wanted if n not in available]
    if unknown:
        installed = ", ".join(available) or "none"
        raise PluginError(
            f"unknown plugin {', '.join(map(repr, unknown))}; installed plugins: {installed}"
        )
    return wanted


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


class HookTrace:
    """Logs every hook call to ``pbk.hooks``: the plugins it reaches, in order, and failures.

    The kernel's own loops report here directly; ``app.hook.x()`` calls arrive through pluggy's
    hook call monitoring, which sees no kernel loop.
    """

    def called(self, hook_name: str, impls: Iterable[HookImpl]) -> None:
        names = ", ".join(impl.plugin_name for impl in impls) or "no plugin"
        trace_log.info("%s -> %s", hook_name, names)

    def failed(self, hook_name: str, plugin_name: str | None, exc: BaseException) -> None:
        who = f"plugin {plugin_name!r}" if plugin_name else "a plugin"
        trace_log.warning("%s -> %s failed: %s: %s", hook_name, who, type(exc).__name__, exc)

    def before_pluggy_call(
        self, hook_name: str, impls: Sequence[HookImpl], kwargs: Mapping[str, object]
    ) -> None:
        self.called(hook_name, reversed(impls))

    def after_pluggy_call(
        self,
        outcome: pluggy.Result[Any],
        hook_name: str,
        impls: Sequence[HookImpl],
        kwargs: Mapping[str, object],
    ) -> None:
        if outcome.exception is not None:
            self.failed(hook_name, None, outcome.exception)


class HookManager(pluggy.PluginManager):
    """pluggy's manager for the ``pbk`` hooks, with the trace the kernel's own calls report to."""

    def __init__(self, trace: HookTrace | None) -> None:
        super().__init__("pbk")
        self.add_hookspecs(hookspecs)
        self.hook_trace = trace
        if trace is not None:
            self.add_hookcall_monitoring(trace.before_pluggy_call, trace.after_pluggy_call)


def hook_tracing_requested() -> bool:
    """Whether ``PBK_TRACE_HOOKS`` asks for hook calls to be logged (read when an app is built)."""
    return os.environ.get(TRACE_ENV, "").strip().lower() not in ("", "0", "false", "no", "off")


def plugin_manager(plugins: Iterable[Loaded]) -> HookManager:
    """A pluggy manager with the SDK's hookspecs and these plugins (in dependency order).

    pluggy calls the implementation registered last first, so the plugins are registered in
    reverse: its call order is then dependency order, for the kernel's calls and ``app.hook``
    alike. Misspelt hooks and hook wrappers are refused; ``PBK_TRACE_HOOKS`` turns tracing on.
    """
    pm = HookManager(HookTrace() if hook_tracing_requested() else None)
    for plugin in reversed(list(plugins)):
        try:
            pm.register(plugin.module, name=plugin.name)
        except Exception as exc:
            raise PluginError(f"plugin {plugin.name!r} cannot register its hooks: {exc}") from exc
        _refuse_wrappers(pm, plugin)
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        name = pm.get_name(exc.plugin) if exc.plugin is not None else "?"
        raise PluginError(f"plugin {name!r} implements an unknown hook: {exc}") from exc
    return pm


def _refuse_wrappers(pm: pluggy.PluginManager, plugin: Loaded) -> None:
    # The kernel calls each implementation on its own (to name the plugin in errors and await
    # async ones), which leaves nowhere for a wrapper's yield to go.
    for caller in pm.get_hookcallers(plugin.module) or ():
        for impl in caller.get_hookimpls():
            if impl.plugin is plugin.module and (impl.wrapper or impl.hookwrapper):
                raise PluginError(
                    f"plugin {plugin.name!r}: {caller.name} is a hook wrapper, which pbk does not "
                    f"support; use tryfirst/trylast"
                )


def call_order(pm: pluggy.PluginManager, hook_name: str) -> list[HookImpl]:
    """A hook's implementations in pluggy's call order: ``tryfirst`` ones, then the others,
    both in dependency order, then ``trylast`` ones in reverse dependency order."""
    return list(reversed(getattr(pm.hook, hook_name).get_hookimpls()))


def hook_results(pm: HookManager, hook_name: str, **kwargs: Any) -> list[tuple[str, Any]]:
    """Call each plugin's implementation of a sync hook in call order, naming the plugin in any
    error; returns ``(plugin name, result)`` for results that are not None."""
    impls = call_order(pm, hook_name)
    if pm.hook_trace is not None:
        pm.hook_trace.called(hook_name, impls)
    results = []
    for impl in impls:
        with _failures_named(pm, hook_name, impl):
            result = _call(impl, kwargs)
            if inspect.isawaitable(result):
                if inspect.iscoroutine(result):
                    result.close()
                raise PluginError(f"plugin {impl.plugin_name!r}: {hook_name} must not be async")
        if result is not None:
            results.append((impl.plugin_name, result))
    return results


async def call_async_hook(
    pm: HookManager,
    hook_name: str,
    *,
    reverse: bool = False,
    keep_going: bool = False,
    **kwargs: Any,
) -> None:
    """Call a hook whose implementations may be ``async def``, awaiting each in turn. With
    ``reverse`` (shutdown undoes start-up) the ``tryfirst`` group still comes first and the
    ``trylast`` group last, but each group runs in reverse dependency order.

    The first failure stops the call, unless ``keep_going`` (shutdown: every plugin still gets
    its turn, failures are logged and the first is raised at the end)."""
    impls = call_order(pm, hook_name)
    if reverse:
        impls = _reverse_dependency_order(pm, impls)
    if pm.hook_trace is not None:
        pm.hook_trace.called(hook_name, impls)
    failures: list[PluginError] = []
    for impl in impls:
        try:
            with _failures_named(pm, hook_name, impl):
                result = _call(impl, kwargs)
                if inspect.isawaitable(result):
                    await result
        except PluginError as failure:
            if not keep_going:
                raise
            log.error("%s", failure, exc_info=failure.__cause__ or failure)
            failures.append(failure)
    if failures:
        raise failures[0]


def _reverse_dependency_order(pm: pluggy.PluginManager, impls: list[HookImpl]) -> list[HookImpl]:
    # tryfirst and trylast keep their meaning; within each group a plugin stops before the plugins
    # it requires. plugin_manager registers plugins in reverse dependency order, so that is the
    # order to sort by (pluggy's own order differs between groups).
    registered = {name: index for index, (name, _) in enumerate(pm.list_name_plugin())}

    def in_reverse_dependency_order(group: Iterable[HookImpl]) -> list[HookImpl]:
        return sorted(group, key=lambda impl: registered[impl.plugin_name])

    first = in_reverse_dependency_order(impl for impl in impls if impl.tryfirst)
    last = in_reverse_dependency_order(impl for impl in impls if impl.trylast)
    others = in_reverse_dependency_order(
        impl for impl in impls if not (impl.tryfirst or impl.trylast)
    )
    return [*first, *others, *last]


def _call(impl: HookImpl, kwargs: Mapping[str, Any]) -> Any:
    # As pluggy calls it: required arguments by position, those with defaults by keyword.
    optional = {name: kwargs[name] for name in impl.kwargnames if name in kwargs}
    return impl.function(*[kwargs[name] for name in impl.argnames], **optional)


@contextmanager
def _failures_named(pm: HookManager, hook_name: str, impl: HookImpl) -> Iterator[None]:
    """Trace a failure of one implementation and raise it as a one-line ``PluginError`` naming
    the plugin (a ``PluginError`` that already names one, from a nested hook call, is kept)."""
    try:
        yield
    except Exception as exc:
        if pm.hook_trace is not None:
            pm.hook_trace.failed(hook_name, impl.plugin_name, exc)
        if isinstance(exc, PluginError) and str(exc).startswith("plugin "):
            raise
        if isinstance(exc, PluginError):
            raise PluginError(f"plugin {impl.plugin_name!r}: {exc}") from exc
        if isinstance(exc, StartupError):
            raise PluginError(f"plugin {impl.plugin_name!r} stopped the start-up: {exc}") from exc
        raise PluginError(
            f"plugin {impl.plugin_name!r} failed in {hook_name}: {type(exc).__name__}: {exc}"
        ) from exc


def hooks_of(pm: pluggy.PluginManager, plugin_name: str) -> list[str]:
    """Names of the hooks a registered plugin implements."""
    plugin = pm.get_plugin(plugin_name)
    callers = pm.get_hookcallers(plugin) if plugin is not None else None
    return sorted(caller.name for caller in callers or ())
