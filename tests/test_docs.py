"""The docs show code that runs and name every hook and kernel event."""

from __future__ import annotations

import re
from pathlib import Path

import falcon.testing
import pytest
from pbk import build_app
from pbk_sdk import events, hookspecs

ARCHITECTURE = Path(__file__).parents[1] / "docs" / "architecture.md"


def example_plugin_source() -> str:
    text = ARCHITECTURE.read_text()
    match = re.search(r"<!-- example-plugin -->\n```python\n(.*?)```", text, re.S)
    assert match, "docs/architecture.md lost its example plugin"
    return match.group(1)


async def test_the_example_plugin_in_the_docs_works(tmp_path):
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "visits.py").write_text(example_plugin_source())
    app = build_app(data_dir=tmp_path / "pb_data", plugins=[], plugins_dir=plugins)
    async with falcon.testing.ASGIConductor(app.asgi) as client:
        await client.post("/api/visits/home")
        second = await client.post("/api/visits/home")
        too_long = await client.post("/api/visits/" + "x" * 101)
    assert second.json == {"page": "home", "visits": 2}
    assert too_long.status_code == 400
    assert too_long.json["message"] == "Page names are at most 100 characters."


HOOKS = sorted(name for name in dir(hookspecs) if name.startswith("pbk_"))


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_is_documented(hook):
    assert f"`{hook}(" in ARCHITECTURE.read_text(), f"{hook} is missing from docs/architecture.md"


@pytest.mark.parametrize("name", [events.SERVE, events.TERMINATE, events.REQUEST, events.SETTINGS_RELOAD])
def test_every_kernel_event_is_documented(name):
    assert f"`{name}`" in ARCHITECTURE.read_text()
