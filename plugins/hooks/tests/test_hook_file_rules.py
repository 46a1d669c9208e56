"""What a hook file is blamed for and what it may not take over, on an app in process."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from pbk_hooks.plugin import HOOK_FILES
from pbk_sdk.interfaces import CRON_JOBS

PASS_THROUGH = """\
from pbk_hooks import on

@on("request")
async def pass_through(e):
    await e.next()
"""


@pytest.fixture
def pbk_config(tmp_path: Path) -> dict[str, Any]:
    hooks = tmp_path / "pb_hooks"
    hooks.mkdir()
    return {"data_dir": tmp_path / "pb_data", "plugins": ("crons", "hooks"), "hooks_dir": hooks,
            "hooks_watch": False}


def hook_file(app: Any, name: str, text: str) -> Path:
    path = Path(app.config.hooks_dir) / name
    path.write_text(text)
    return path


async def test_errors_after_the_hook_are_not_its_own(pbk_app: Any, pbk_client: Any,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    async def broken(req: Any, resp: Any) -> None:
        raise RuntimeError("a plugin's own bug")

    route = pbk_app.routes.add("GET", "/broken", broken)
    assert pbk_app.state[HOOK_FILES].load(hook_file(pbk_app, "pass.pb.py", PASS_THROUGH))
    try:
        with caplog.at_level(logging.ERROR):
            answer = await pbk_client.get("/broken")
        assert answer.status_code == 500
        assert not [record for record in caplog.records if "pass_through" in record.getMessage()]
    finally:
        route.remove()


async def test_a_missing_file_the_hook_file_opens_is_its_failure(
        pbk_app: Any, pbk_client: Any, caplog: pytest.LogCaptureFixture) -> None:
    files = pbk_app.state[HOOK_FILES]
    path = hook_file(pbk_app, "config.pb.py", PASS_THROUGH)
    assert files.load(path)
    path.write_text(PASS_THROUGH + "\nopen('/nonexistent/config.json')\n")
    with caplog.at_level(logging.ERROR):
        assert not files.load(path)
    assert f"{path.resolve()}:7: FileNotFoundError" in caplog.text
    assert path.resolve() in files.loaded  # the previous version keeps running


def cron_file(every: int) -> str:
    return f"from pbk_hooks import cron\n\n\n@cron('shared', '*/{every} * * * *')\nasync def job():\n    pass\n"


async def test_a_cron_id_belongs_to_one_hook_file(pbk_app: Any, caplog: pytest.LogCaptureFixture) -> None:
    files = pbk_app.state[HOOK_FILES]
    first = hook_file(pbk_app, "a.pb.py", cron_file(5))
    assert files.load(first)
    assert files.load(first)  # reloading its own job is fine
    second = hook_file(pbk_app, "b.pb.py", cron_file(7))
    with caplog.at_level(logging.ERROR):
        assert not files.load(second)
    assert f"{second.resolve()}:4: ValueError: cron job 'shared' already exists" in caplog.text
    files.unload(second)
    assert ("shared", "*/5 * * * *") in pbk_app.state[CRON_JOBS].jobs()
