"""Hook call order follows pluggy (tryfirst, dependency order, trylast) for the kernel's calls
and ``app.hook`` alike; wrappers are refused; ``PBK_TRACE_HOOKS`` logs every call."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from pbk import build_app
from pbk.plugins import hook_results
from pbk_sdk.errors import PluginError

WritePlugin = Callable[[str, str], Path]

# Each implementation appends "<hook>:<plugin>" to the shared list ``hook_calls.calls``.
RECORDING_PLUGIN = """
import sys
from pbk_sdk import PluginInfo, hookimpl

PLUGIN = PluginInfo({name!r}, requires={requires!r})
CALLS = sys.modules["hook_calls"].calls

@hookimpl({marker})
def pbk_register_migrations(app):
    CALLS.append("migrations:{name}")
    return []

@hookimpl({marker})
async def pbk_startup(app):
    CALLS.append("startup:{name}")

@hookimpl({marker})
async def pbk_shutdown(app):
    CALLS.append("shutdown:{name}")
"""


@pytest.fixture
def calls() -> Iterator[list[str]]:
    module = type(sys)("hook_calls")
    module.calls = []  # type: ignore[attr-defined]
    sys.modules["hook_calls"] = module
    yield module.calls  # type: ignore[attr-defined]
    del sys.modules["hook_calls"]


def write_recording(write_plugin: WritePlugin, name: str, requires: tuple[str, ...] = (), marker: str = "") -> None:
    write_plugin(name, RECORDING_PLUGIN.format(name=name, requires=requires, marker=marker))


def hook_calls(calls: list[str], hook: str) -> list[str]:
    return [call.split(":")[1] for call in calls if call.startswith(f"{hook}:")]


async def test_plugins_run_in_dependency_order_and_shut_down_in_reverse(tmp_path, plugins_dir, write_plugin, calls):
    # Names sort against the dependencies: a sorted order would be wrong.
    write_recording(write_plugin, "zeta")
    write_recording(write_plugin, "mid", requires=("zeta",))
    write_recording(write_plugin, "alpha", requires=("mid",))
    app = build_app(data_dir=tmp_path / "pb_data", plugins=[], plugins_dir=plugins_dir)
    assert [p.name for p in app.plugins] == ["zeta", "mid", "alpha"]
    await app.start()
    await app.stop()
    assert hook_calls(calls, "migrations") == ["zeta", "mid", "alpha"]
    assert hook_calls(calls, "startup") == ["zeta", "mid", "alpha"]
    assert hook_calls(calls, "shutdown") == ["alpha", "mid", "zeta"]


async def test_tryfirst_and_trylast_move_an_implementation_across_plugins(tmp_path, plugins_dir, write_plugin, calls):
    write_recording(write_plugin, "base")
    write_recording(write_plugin, "early", requires=("base",), marker="tryfirst=True")
    write_recording(write_plugin, "late", marker="trylast=True")
    write_recording(write_plugin, "plain", requires=("base",))
    app = build_app(data_dir=tmp_path / "pb_data", plugins=[], plugins_dir=plugins_dir)
    assert [p.name for p in app.plugins] == ["base", "early", "late", "plain"]
    await app.start()
    await app.stop()
    assert hook_calls(calls, "migrations") == ["early", "base", "plain", "late"]
    assert hook_calls(calls, "startup") == ["early", "base", "plain", "late"]
    # Shutdown reverses the dependency order only: tryfirst is still first, trylast last.
    assert hook_calls(calls, "shutdown") == ["early", "plain", "base", "late"]


async def test_shutdown_reverses_the_dependency_order_within_the_tryfirst_and_trylast_groups(
    tmp_path, plugins_dir, write_plugin, calls
):
    write_recording(write_plugin, "first_base", marker="tryfirst=True")
    write_recording(write_plugin, "first_addon", requires=("first_base",), marker="tryfirst=True")
    write_recording(write_plugin, "last_base", marker="trylast=True")
    write_recording(write_plugin, "last_addon", requires=("last_base",), marker="trylast=True")
    write_recording(write_plugin, "plain")
    app = build_app(data_dir=tmp_path / "pb_data", plugins=[], plugins_dir=plugins_dir)
    await app.start()
    await app.stop()
    assert hook_calls(calls, "startup") == [
        "first_base", "first_addon", "plain", "last_addon", "last_base",
    ]
    # Each plugin stops before the plugin it requires, whichever group it is in.
    assert hook_calls(calls, "shutdown") == [
        "first_addon", "first_base", "plain", "last_addon", "last_base",
    ]


def test_several_trylast_implementations_run_in_reverse_dependency_order(tmp_path, plugins_dir, write_plugin, calls):
    # pluggy runs trylast implementations first-registered-first, and pbk registers plugins in
    # reverse dependency order, so among trylast ones a plugin's dependents come first.
    write_recording(write_plugin, "base", marker="trylast=True")
    write_recording(write_plugin, "addon", requires=("base",), marker="trylast=True")
    write_recording(write_plugin, "other")
    app = build_app(data_dir=tmp_path / "pb_data", plugins=[], plugins_dir=plugins_dir)
    app.migrations()
    assert hook_calls(calls, "migrations") == ["other", "addon", "base"]


def test_the_kernels_calls_and_app_hook_agree(tmp_path, plugins_dir, write_plugin, calls):
    write_recording(write_plugin, "base")
    write_recording(write_plugin, "addon", requires=("base",))
    write_recording(write_plugin, "early", marker="tryfirst=True")
    write_recording(write_plugin, "late", requires=("addon",), marker="trylast=True")
    write_recording(write_plugin, "zzz", requires=("base",))
    app = build_app(data_dir=tmp_path / "pb_data", plugins=[], plugins_dir=plugins_dir)

    app.migrations()
    by_kernel = hook_calls(calls, "migrations")
    calls.clear()
    assert app.hook.pbk_register_migrations(app=app) == [[]] * 5
    by_pluggy = hook_calls(calls, "migrations")

    assert by_kernel == by_pluggy == ["early", "base", "addon", "zzz", "late"]


def test_app_call_hook_is_the_kernels_loop_for_plugins(tmp_path, plugins_dir, write_plugin, calls, monkeypatch, caplog):
    write_recording(write_plugin, "base")
    write_recording(write_plugin, "early", requires=("base",), marker="tryfirst=True")
    write_plugin(
        "broken",
        """
        from pbk_sdk import hookimpl

        @hookimpl
        def pbk_register_system_collections(app):
            raise ValueError("bad schema")
        """,
    )
    monkeypatch.setenv("PBK_TRACE_HOOKS", "1")
    caplog.set_level(logging.INFO, logger="pbk.hooks")
    app = build_app(data_dir=tmp_path / "pb_data", plugins=[], plugins_dir=plugins_dir)

    assert app.call_hook("pbk_register_migrations", app=app) == [("early", []), ("base", [])]
    with pytest.raises(PluginError) as info:
        app.call_hook("pbk_register_system_collections", app=app)
    assert str(info.value) == (
        "plugin 'broken' failed in pbk_register_system_collections: ValueError: bad schema"
    )
    messages = [r.getMessage() for r in caplog.records if r.name == "pbk.hooks"]
    assert messages[-3:] == [
        "pbk_register_migrations -> early, base",
        "pbk_register_system_collections -> broken",
        "pbk_register_system_collections -> plugin 'broken' failed: ValueError: bad schema",
    ]


@pytest.mark.parametrize("marker", ["wrapper=True", "hookwrapper=True"])
def test_a_hook_wrapper_is_refused_in_one_line_naming_plugin_and_hook(tmp_path, plugins_dir, write_plugin, marker):
    write_plugin(
        "wrapping",
        f"""
        from pbk_sdk import hookimpl

        @hookimpl({marker})
        def pbk_register_routes(app):
            return (yield)
        """,
    )
    with pytest.raises(PluginError) as info:
        build_app(data_dir=tmp_path / "pb_data", plugins=[], plugins_dir=plugins_dir)
    assert str(info.value) == (
        "plugin 'wrapping': pbk_register_routes is a hook wrapper, which pbk does not support; "
        "use tryfirst/trylast"
    )


def test_a_sync_hook_refuses_an_async_implementation(tmp_path, plugins_dir, write_plugin):
    write_plugin(
        "hasty",
        """
        from pbk_sdk import hookimpl

        @hookimpl
        async def pbk_register_routes(app):
            return []
        """,
    )
    with pytest.raises(PluginError, match="^plugin 'hasty': pbk_register_routes must not be async$"):
        build_app(data_dir=tmp_path / "pb_data", plugins=[], plugins_dir=plugins_dir)


def test_a_plugin_error_a_plugin_raises_itself_is_named(tmp_path, plugins_dir, write_plugin):
    write_plugin(
        "picky",
        """
        from pbk_sdk import hookimpl
        from pbk_sdk.errors import PluginError

        @hookimpl
        def pbk_register_routes(app):
            raise PluginError("needs a licence key")
        """,
    )
    with pytest.raises(PluginError, match="^plugin 'picky': needs a licence key$"):
        build_app(data_dir=tmp_path / "pb_data", plugins=[], plugins_dir=plugins_dir)


FAILING_STARTUP = """
from pbk_sdk import hookimpl

@hookimpl
def pbk_register_migrations(app):
    return []

@hookimpl
def pbk_startup(app):
    raise RuntimeError("no token")
"""


async def test_trace_logs_every_hook_call_with_its_plugins_and_failures(
    tmp_path, plugins_dir, write_plugin, calls, monkeypatch, caplog
):
    write_recording(write_plugin, "base")
    write_plugin("failing", FAILING_STARTUP)
    monkeypatch.setenv("PBK_TRACE_HOOKS", "1")
    caplog.set_level(logging.INFO, logger="pbk.hooks")
    app = build_app(data_dir=tmp_path / "pb_data", plugins=[], plugins_dir=plugins_dir)
    with pytest.raises(PluginError, match="plugin 'failing' failed in pbk_startup"):
        await app.start()
    app.hook.pbk_register_migrations(app=app)

    traced = [(r.name, r.levelno, r.getMessage()) for r in caplog.records if r.name == "pbk.hooks"]
    messages = [message for _, _, message in traced]
    assert "pbk_register_routes -> no plugin" in messages  # build: the kernel's own loop
    assert messages.count("pbk_register_migrations -> base, failing") == 2  # start, then app.hook
    assert "pbk_startup -> base, failing" in messages
    assert (
        "pbk.hooks",
        logging.WARNING,
        "pbk_startup -> plugin 'failing' failed: RuntimeError: no token",
    ) in traced


def test_trace_is_read_when_the_app_is_built_and_off_by_default(tmp_path, plugins_dir, write_plugin, calls, monkeypatch, caplog):
    write_recording(write_plugin, "base")
    caplog.set_level(logging.INFO, logger="pbk.hooks")
    monkeypatch.delenv("PBK_TRACE_HOOKS", raising=False)
    quiet = build_app(data_dir=tmp_path / "quiet", plugins=[], plugins_dir=plugins_dir)
    monkeypatch.setenv("PBK_TRACE_HOOKS", "1")
    quiet.migrations()
    assert not [r for r in caplog.records if r.name == "pbk.hooks"]

    traced = build_app(data_dir=tmp_path / "traced", plugins=[], plugins_dir=plugins_dir)
    hook_results(traced._pm, "pbk_register_migrations", app=traced)
    assert [r.getMessage() for r in caplog.records if r.name == "pbk.hooks"][-1] == (
        "pbk_register_migrations -> base"
    )


def test_a_failure_in_app_hook_is_traced(tmp_path, plugins_dir, write_plugin, monkeypatch, caplog):
    write_plugin(
        "system",
        """
        from pbk_sdk import hookimpl

        @hookimpl
        def pbk_register_migrations(app):
            raise ValueError("bad schema")
        """,
    )
    monkeypatch.setenv("PBK_TRACE_HOOKS", "1")
    caplog.set_level(logging.INFO, logger="pbk.hooks")
    app = build_app(data_dir=tmp_path / "pb_data", plugins=[], plugins_dir=plugins_dir)
    with pytest.raises(ValueError, match="bad schema"):
        app.hook.pbk_register_migrations(app=app)
    messages = [r.getMessage() for r in caplog.records if r.name == "pbk.hooks"]
    assert messages[-2:] == [
        "pbk_register_migrations -> system",
        "pbk_register_migrations -> a plugin failed: ValueError: bad schema",
    ]
