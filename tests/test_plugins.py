"""Plugin discovery, selection, ordering and the errors operators see."""

from __future__ import annotations

import pytest
from pbk import build_app
from pbk.plugins import discover, select
from pbk_sdk.errors import PluginError

GREETER = """
from pbk_sdk import PluginInfo, Route, hookimpl

PLUGIN = PluginInfo(name="greeter", requires=("base",))
ORDER = []

class Hello:
    async def on_get(self, req, resp):
        resp.media = {"hello": "world"}

@hookimpl
def pbk_register_routes(app):
    return [Route("/api/hello", Hello())]

@hookimpl
def pbk_startup(app):
    ORDER.append("greeter")
"""

BASE = """
import sys
from pbk_sdk import PluginInfo, hookimpl

PLUGIN = PluginInfo(name="base")

@hookimpl
async def pbk_startup(app):
    sys.modules["pbk_local_plugins.greeter"].ORDER.append("base")
"""


def test_discovery_lists_local_plugins_without_importing_them(plugins_dir, write_plugin):
    write_plugin("exploding", "raise RuntimeError('imported too early')")
    available = discover(plugins_dir)
    assert available["exploding"].distribution == "local"
    assert available["exploding"].path == plugins_dir / "exploding.py"


def test_unknown_plugin_is_one_line_naming_it_and_what_is_installed(plugins_dir, write_plugin):
    write_plugin("base", BASE)
    with pytest.raises(PluginError) as info:
        select(discover(plugins_dir), ["no_such_plugin"])
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith("unknown plugin 'no_such_plugin'; installed plugins: ")
    assert "base" in message.split("installed plugins: ")[1].split(", ")


def test_required_plugins_are_pulled_in_and_ordered_first(plugins_dir, write_plugin):
    write_plugin("greeter", GREETER)
    write_plugin("base", BASE)
    loaded = select(discover(plugins_dir), ["greeter"])
    assert [p.name for p in loaded] == ["base", "greeter"]


async def test_startup_hooks_run_in_dependency_order_and_may_be_async(tmp_path, plugins_dir, write_plugin):
    write_plugin("greeter", GREETER)
    write_plugin("base", BASE)
    app = build_app(data_dir=tmp_path / "pb_data", plugins=[], plugins_dir=plugins_dir)
    await app.start()
    try:
        import sys

        assert sys.modules["pbk_local_plugins.greeter"].ORDER == ["base", "greeter"]
        assert [p.name for p in app.plugins] == ["base", "greeter"]
    finally:
        await app.stop()


def test_a_missing_requirement_names_both_plugins(plugins_dir, write_plugin):
    write_plugin("greeter", GREETER)
    with pytest.raises(PluginError, match="'greeter' requires plugin 'base', which is not installed"):
        select(discover(plugins_dir), [])


def test_a_requirement_cycle_is_refused(plugins_dir, write_plugin):
    write_plugin("a", "from pbk_sdk import PluginInfo\nPLUGIN = PluginInfo('a', requires=('b',))")
    write_plugin("b", "from pbk_sdk import PluginInfo\nPLUGIN = PluginInfo('b', requires=('a',))")
    with pytest.raises(PluginError, match="cycle: a -> b -> a"):
        select(discover(plugins_dir), [])


def test_a_plugin_that_raises_at_import_is_named_in_one_line(plugins_dir, write_plugin):
    write_plugin("broken", "import json\nraise ValueError('no config for broken')")
    with pytest.raises(PluginError) as info:
        select(discover(plugins_dir), [])
    assert str(info.value) == (
        f"plugin 'broken' ({plugins_dir / 'broken.py'}) failed to import: "
        "ValueError: no config for broken"
    )


def test_a_declared_name_that_differs_from_the_entry_point_is_refused(plugins_dir, write_plugin):
    write_plugin("alias", "from pbk_sdk import PluginInfo\nPLUGIN = PluginInfo('other')")
    with pytest.raises(PluginError, match="declares the name 'other'"):
        select(discover(plugins_dir), [])


def test_a_misspelt_hook_fails_at_startup(tmp_path, plugins_dir, write_plugin):
    write_plugin(
        "typo",
        """
        from pbk_sdk import hookimpl

        @hookimpl
        def pbk_register_route(app):
            return []
        """,
    )
    with pytest.raises(PluginError, match="'typo' implements an unknown hook"):
        build_app(data_dir=tmp_path / "pb_data", plugins=[], plugins_dir=plugins_dir)


def test_a_failing_build_hook_names_the_plugin(tmp_path, plugins_dir, write_plugin):
    write_plugin(
        "faulty",
        """
        from pbk_sdk import hookimpl

        @hookimpl
        def pbk_register_routes(app):
            raise KeyError("db_url")
        """,
    )
    with pytest.raises(PluginError, match="plugin 'faulty' failed in pbk_register_routes: KeyError"):
        build_app(data_dir=tmp_path / "pb_data", plugins=[], plugins_dir=plugins_dir)


async def test_a_startup_error_stops_the_start_with_the_plugins_message(tmp_path, plugins_dir, write_plugin):
    write_plugin(
        "picky",
        """
        from pbk_sdk import StartupError, hookimpl

        @hookimpl
        async def pbk_startup(app):
            raise StartupError("set PICKY_TOKEN first")
        """,
    )
    app = build_app(data_dir=tmp_path / "pb_data", plugins=[], plugins_dir=plugins_dir)
    with pytest.raises(PluginError, match="plugin 'picky' stopped the start-up: set PICKY_TOKEN first"):
        await app.start()


def test_two_plugins_declaring_one_setting_are_refused(tmp_path, plugins_dir, write_plugin):
    for name in ("one", "two"):
        write_plugin(
            name,
            """
            from pbk_sdk import hookimpl

            @hookimpl
            def pbk_declare_settings(app):
                return {"smtp": {"host": "x"}}
            """,
        )
    with pytest.raises(PluginError, match="'one' and 'two' both declare the setting 'smtp'"):
        build_app(data_dir=tmp_path / "pb_data", plugins=[], plugins_dir=plugins_dir)


STORAGE = """
from pbk_sdk import hookimpl

class MemoryStorage:
    def __init__(self, app):
        self.app = app
        self.files = {}

@hookimpl
def pbk_register_file_storages(app):
    return {"{name}": MemoryStorage}
"""


async def test_services_are_found_by_kind_and_name_and_created_once(tmp_path, plugins_dir, write_plugin):
    write_plugin("mem", STORAGE.replace("{name}", "memory"))
    write_plugin("mem2", STORAGE.replace("{name}", "scratch"))
    app = build_app(data_dir=tmp_path / "pb_data", plugins=[], plugins_dir=plugins_dir)
    assert sorted(app.services.providers("file_storage")) == ["memory", "scratch"]
    storage = app.services.get("file_storage", "memory")
    assert storage.app is app
    assert app.services.get("file_storage", "memory") is storage
    with pytest.raises(LookupError, match="choose a file_storage by name; installed: memory, scratch"):
        app.services.get("file_storage")
    with pytest.raises(LookupError, match="no file_storage named 's3'"):
        app.services.get("file_storage", "s3")


def test_two_plugins_offering_one_service_name_are_refused(tmp_path, plugins_dir, write_plugin):
    write_plugin("mem", STORAGE.replace("{name}", "memory"))
    write_plugin("mem2", STORAGE.replace("{name}", "memory"))
    with pytest.raises(PluginError, match="'mem' and 'mem2' both provide the file_storage 'memory'"):
        build_app(data_dir=tmp_path / "pb_data", plugins=[], plugins_dir=plugins_dir)


@pytest.mark.parametrize(
    ("hook", "kind"),
    [
        ("pbk_register_file_storages", "file_storage"),
        ("pbk_register_password_hashers", "password_hasher"),
        ("pbk_register_auth_backends", "auth_backend"),
        ("pbk_register_mailers", "mailer"),
        ("pbk_register_realtime_brokers", "realtime_broker"),
        ("pbk_register_field_types", "field_type"),
        ("pbk_register_record_stores", "record_store"),
        ("pbk_register_token_services", "token_service"),
        ("pbk_register_tls_certificates", "tls_certificates"),
    ],
)
def test_every_service_hook_feeds_its_kind(tmp_path, plugins_dir, write_plugin, hook, kind):
    write_plugin(
        "provider",
        f"""
        from pbk_sdk import hookimpl

        class Provided:
            pass

        @hookimpl
        def {hook}(app):
            return {{"custom": Provided}}
        """,
    )
    app = build_app(data_dir=tmp_path / "pb_data", plugins=[], plugins_dir=plugins_dir)
    assert list(app.services.providers(kind)) == ["custom"]
    assert app.services.provided_by(kind, "custom") == "provider"


async def test_shutdown_hooks_run_in_reverse_order_after_terminate(tmp_path, plugins_dir, write_plugin):
    for name, requires in (("first", ()), ("second", ("first",))):
        write_plugin(
            name,
            f"""
            import sys
            from pbk_sdk import PluginInfo, hookimpl

            PLUGIN = PluginInfo({name!r}, requires={requires!r})
            LOG = sys.modules.setdefault("shutdown_log", type(sys)("shutdown_log"))
            LOG.__dict__.setdefault("calls", [])

            @hookimpl
            def pbk_startup(app):
                async def on_terminate(e):
                    LOG.calls.append("terminate:{name}")
                    await e.next()
                app.events.on("terminate", on_terminate)

            @hookimpl
            async def pbk_shutdown(app):
                LOG.calls.append("shutdown:{name}")
            """,
        )
    import sys

    sys.modules.pop("shutdown_log", None)
    app = build_app(data_dir=tmp_path / "pb_data", plugins=[], plugins_dir=plugins_dir)
    await app.start()
    await app.stop()
    assert sys.modules["shutdown_log"].calls == [
        "terminate:first",
        "terminate:second",
        "shutdown:second",
        "shutdown:first",
    ]


async def test_other_plugins_can_call_sdk_hooks_through_app_hook(tmp_path, plugins_dir, write_plugin):
    write_plugin(
        "system",
        """
        from pbk_sdk import hookimpl

        @hookimpl
        def pbk_register_system_collections(app):
            return [{"name": "_audit", "type": "base"}]
        """,
    )
    app = build_app(data_dir=tmp_path / "pb_data", plugins=[], plugins_dir=plugins_dir)
    assert app.hook.pbk_register_system_collections(app=app) == [[{"name": "_audit", "type": "base"}]]


async def test_a_failing_shutdown_hook_does_not_stop_the_others(tmp_path, plugins_dir, write_plugin):
    import sys

    for name, requires, fails in (("first", (), False), ("second", ("first",), True)):
        write_plugin(
            name,
            f"""
            import sys
            from pbk_sdk import PluginInfo, hookimpl

            PLUGIN = PluginInfo({name!r}, requires={requires!r})
            LOG = sys.modules.setdefault("shutdown_failures", type(sys)("shutdown_failures"))
            LOG.__dict__.setdefault("calls", [])

            @hookimpl
            async def pbk_shutdown(app):
                LOG.calls.append({name!r})
                if {fails!r}:
                    raise RuntimeError("cannot flush")
            """,
        )
    sys.modules.pop("shutdown_failures", None)
    app = build_app(data_dir=tmp_path / "pb_data", plugins=[], plugins_dir=plugins_dir)
    await app.start()
    with pytest.raises(PluginError, match="plugin 'second' failed in pbk_shutdown: RuntimeError: cannot flush"):
        await app.stop()
    assert sys.modules["shutdown_failures"].calls == ["second", "first"]
