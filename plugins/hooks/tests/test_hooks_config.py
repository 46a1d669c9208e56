"""``--hooksDir``/``--hooksWatch`` and what a hook file may not do, on an app in process."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from pbk_hooks import on
from pbk_hooks.plugin import HOOK_FILES

HELLO = """\
from pbk_hooks import on, route

@route("GET", "/hello")
async def hello(e):
    e.json(200, {"hello": "there"})

@on("record_craete")
async def typo(e):
    await e.next()
"""


@pytest.fixture
def pbk_config(tmp_path: Path) -> dict[str, Any]:
    hooks = tmp_path / "elsewhere"
    hooks.mkdir()
    (hooks / "hello.pb.py").write_text(HELLO)
    return {"data_dir": tmp_path / "pb_data", "plugins": ("crons", "hooks"), "hooks_dir": hooks,
            "hooks_watch": False}


async def test_hooks_dir_without_watching(pbk_app: Any, pbk_client: Any) -> None:
    assert (await pbk_client.get("/hello")).json == {"hello": "there"}
    assert pbk_app.state[HOOK_FILES]._watcher is None


def test_flags_reach_the_app(pbk_cli: Any, pbk_config: dict[str, Any]) -> None:
    result = pbk_cli("shell", input="print(app.config.hooks_dir, app.config.hooks_watch)\n")
    assert result.exit_code == 0, result.output
    assert f"{pbk_config['hooks_dir']} False" in result.output


async def test_mistakes_in_hook_files(pbk_app: Any, caplog: pytest.LogCaptureFixture) -> None:
    warnings = [record.getMessage() for record in caplog.get_records("setup")]
    assert any("@on('record_craete'): no pbk event has that name" in text for text in warnings)
    path = Path(pbk_app.config.hooks_dir) / "sync.pb.py"
    path.write_text("from pbk_hooks import route\n\n\n@route('GET', '/sync')\ndef sync(e):\n    pass\n")
    with caplog.at_level(logging.ERROR):
        assert not pbk_app.state[HOOK_FILES].load(path)
    assert f"{path.resolve()}:4: TypeError: 'sync' must be async def" in caplog.text
    path.write_text("from pbk_hooks import cron\n\n@cron('bad', '61 * * * *')\nasync def job():\n    pass\n")
    assert not pbk_app.state[HOOK_FILES].load(path)
    assert f"{path.resolve()}:3: CronError" in caplog.text
    path.write_text("from pbk_hooks import route\n\n@route('GET', 'no-slash')\nasync def bad(e):\n    pass\n")
    assert not pbk_app.state[HOOK_FILES].load(path)
    assert f"{path.resolve()}:3: ValueError: route template 'no-slash' must start with '/'" in caplog.text


def test_decorators_work_only_while_a_file_loads() -> None:
    async def handler(e: Any) -> None:
        await e.next()

    with pytest.raises(RuntimeError, match="only in a hook file"):
        on("record_create")(handler)
