"""What a hook file is blamed for and what it may not take over, on an app in process."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import pytest
from pbk.app import build_app
from pbk_hooks.loader import SETTLE_SECONDS, settled
from pbk_hooks.plugin import HOOK_FILES
from pbk_sdk.errors import PluginError
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


def route_file(method: str, template: str) -> str:
    return f"from pbk_hooks import route\n\n\n@route({method!r}, {template!r})\nasync def mine(e):\n    pass\n"


@pytest.mark.parametrize(("method", "template"), [
    ("GET", "/api/health"), ("POST", "/api/health"), ("*", "/api/crons/{job}"), ("GET", "/api/crons")])
async def test_built_in_routes_cannot_be_replaced(pbk_app: Any, caplog: pytest.LogCaptureFixture,
                                                  method: str, template: str) -> None:
    path = hook_file(pbk_app, "shadow.pb.py", route_file(method, template))
    with caplog.at_level(logging.ERROR):
        assert not pbk_app.state[HOOK_FILES].load(path)
    assert (f"{path.resolve()}:4: ValueError: route {method} {template} is served by pbk; "
            "hook routes cannot replace built-in routes") in caplog.text


async def test_a_route_belongs_to_one_hook_file(pbk_app: Any, pbk_client: Any,
                                                caplog: pytest.LogCaptureFixture) -> None:
    files = pbk_app.state[HOOK_FILES]
    first = hook_file(pbk_app, "a.pb.py", route_file("GET", "/mine/{id}"))
    assert files.load(first)
    assert files.load(first)  # its next version may add it again
    second = hook_file(pbk_app, "b.pb.py", route_file("GET", "/mine/{id}"))
    with caplog.at_level(logging.ERROR):
        assert not files.load(second)
    assert f"{second.resolve()}:4: ValueError: route GET /mine/{{id}} is already added by a.pb.py" in caplog.text
    assert files.load(hook_file(pbk_app, "c.pb.py", route_file("POST", "/mine/{id}")))
    assert files.load(hook_file(pbk_app, "d.pb.py", route_file("GET", "/api/health/mine")))
    assert files.load(hook_file(pbk_app, "e.pb.py", route_file("GET", "/api/crons/{job}")))  # POST only


@pytest.mark.parametrize("watch", [False, True])
async def test_a_broken_file_at_start(tmp_path: Path, watch: bool) -> None:
    """Without watching nothing could fix it later: the start stops, as PocketBase's does."""
    hooks = tmp_path / "pb_hooks"
    hooks.mkdir()
    (hooks / "broken.pb.py").write_text("from pbk_hooks import route\n\nraise RuntimeError('oops')\n")
    app = build_app(data_dir=tmp_path / "pb_data", plugins=["crons", "hooks"], hooks_dir=hooks,
                    hooks_watch=watch)
    if watch:  # logged; the file may be fixed while pbk serves
        await app.start()
        try:
            assert not app.state[HOOK_FILES].loaded
        finally:
            await app.stop()
        return
    with pytest.raises(PluginError, match=r"broken\.pb\.py:3: RuntimeError: oops"):
        await app.start()


async def test_a_file_still_being_written_is_not_settled(tmp_path: Path) -> None:
    path = tmp_path / "slow.pb.py"
    path.write_text("# first half\n")

    async def keep_writing() -> None:
        for _ in range(10):
            await asyncio.sleep(SETTLE_SECONDS / 4)
            with path.open("a") as file:
                file.write("# more\n")

    writer = asyncio.create_task(keep_writing())
    assert not await settled(path)
    await writer
    assert await settled(path)
