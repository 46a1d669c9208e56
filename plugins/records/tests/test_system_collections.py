"""``pbk_register_system_collections``: the records plugin creates other plugins' collections
at start-up, validated as the collections API validates them, and never overwrites them."""

from __future__ import annotations

import textwrap
import time
from pathlib import Path
from typing import Any

import pytest
from pbk import build_app
from pbk_records.plugin import RECORDS
from pbk_sdk.errors import PluginError

AUDIT = {
    "id": "audit_log_coll",
    "name": "audit_log",
    "type": "base",
    "system": True,
    "fields": [{"name": "action", "type": "text", "required": True}],
}
ENTRIES = {
    "name": "audit_entries",
    "type": "base",
    "fields": [{"name": "log", "type": "relation", "collectionId": "audit_log_coll", "maxSelect": 1}],
}


def write_plugin(directory: Path, name: str, definitions: Any, *, requires: tuple[str, ...] = ("records",)) -> None:
    """A ``--pluginsDir`` plugin returning ``definitions``; each call of its hook appends the
    worker's index to ``<directory>/<name>.calls``."""
    directory.mkdir(exist_ok=True)
    (directory / f"{name}.py").write_text(textwrap.dedent(f"""
        from pathlib import Path
        from pbk_sdk import PluginInfo, hookimpl

        PLUGIN = PluginInfo({name!r}, requires={requires!r})
        CALLS = Path({str(directory / f"{name}.calls")!r})

        @hookimpl
        def pbk_register_system_collections(app):
            with CALLS.open("a") as calls:
                calls.write(f"{{app.cluster.worker}}\\n")
            return {definitions!r}

        @hookimpl
        def pbk_startup(app):
            with CALLS.with_suffix(".started").open("a") as started:
                started.write(f"{{app.cluster.worker}}\\n")
    """))


async def start(tmp_path: Path) -> Any:
    app = build_app(data_dir=tmp_path / "pb_data", plugins=["records"], plugins_dir=tmp_path / "plugins")
    await app.start()
    return app


async def test_collections_are_created_in_plugin_order(tmp_path):
    write_plugin(tmp_path / "plugins", "audit", [AUDIT])
    # needs audit_log to exist already: a relation to it only validates in plugin order
    write_plugin(tmp_path / "plugins", "entries", [ENTRIES], requires=("audit",))
    app = await start(tmp_path)
    try:
        registry = app.state[RECORDS].registry
        audit, entries = registry.get("audit_log"), registry.get("audit_entries")
        assert (audit.id, audit.system, entries.system) == ("audit_log_coll", True, False)
        assert [f.name for f in audit.fields] == ["id", "action"]
        assert entries.field("log").get("collectionId") == "audit_log_coll"
    finally:
        await app.stop()


async def test_an_existing_collection_is_left_as_it_is(tmp_path):
    write_plugin(tmp_path / "plugins", "audit", [AUDIT])
    app = await start(tmp_path)
    await app.stop()
    changed = {**AUDIT, "fields": [*AUDIT["fields"], {"name": "extra", "type": "number"}], "listRule": ""}
    write_plugin(tmp_path / "plugins", "audit", [changed])
    app = await start(tmp_path)
    try:
        audit = app.state[RECORDS].registry.get("audit_log")
        assert [f.name for f in audit.fields] == ["id", "action"]
        assert audit.rule("listRule") is None
    finally:
        await app.stop()


@pytest.mark.parametrize(
    ("definitions", "problem"),
    [
        ([{"name": "bad name!", "type": "base"}], "system collection 'bad name!': Failed to create collection. (name: "),
        ([{"name": "things", "type": "nosuch"}], "system collection 'things': Failed to create collection. (type: "),
        ([{"name": "things", "fields": [{"name": "n", "type": "number", "min": 5, "max": 1}]}], "(fields.1.max: Must be greater or equal than 5.)"),
        ([{"type": "base"}], "system collection #0: Failed to create collection. (name: Cannot be blank.)"),
        ({"name": "things"}, "pbk_register_system_collections must return collection definitions"),
    ],
)
async def test_a_bad_definition_stops_the_start_up_naming_the_plugin(tmp_path, definitions, problem):
    write_plugin(tmp_path / "plugins", "audit", definitions)
    app = build_app(data_dir=tmp_path / "pb_data", plugins=["records"], plugins_dir=tmp_path / "plugins")
    with pytest.raises(PluginError) as raised:
        await app.start()
    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith("plugin 'records' stopped the start-up: plugin 'audit'")
    assert problem in message


def test_with_several_workers_the_collections_are_created_once(tmp_path, live_server_factory):
    plugins = tmp_path / "plugins"
    write_plugin(plugins, "audit", [AUDIT])
    server = live_server_factory(["--plugins", "records", "--pluginsDir", str(plugins), "--workers", "2"])
    started = plugins / "audit.started"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and sorted(started.read_text().split()) != ["0", "1"]:
        time.sleep(0.1)
    assert sorted(started.read_text().split()) == ["0", "1"], server.output()
    assert (plugins / "audit.calls").read_text().split() == ["0"]
