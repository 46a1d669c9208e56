"""The folder as pbk reads and writes it: async steps refused, no bytecode left in it,
PocketBase's ``*.js`` named in a warning, automigrate names that are never test modules."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from migrations_testing import applied, migrate_up, pbk

ASYNC_UP = '''
async def up(app):
    app.save_collection({"name": "never"})
'''
PLAIN_UP = '''
def up(app):
    app.save_collection({"name": "plain"})
'''


def test_an_async_step_is_refused_naming_the_file(tmp_path: Path) -> None:
    result = migrate_up(tmp_path, {"1700000001_async.py": ASYNC_UP})
    path = tmp_path / "pb_migrations" / "1700000001_async.py"
    assert result.exit_code == 1
    assert f"migration {path}: up(app) and down(app) must be plain functions, not async" in result.output
    assert "1700000001_async.py" not in applied(tmp_path / "pb_data")


def test_loading_writes_no_bytecode_and_names_javascript_migrations(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    files = {"1700000000_created_posts.js": "migrate((app) => {})\n", "1700000001_plain.py": PLAIN_UP}
    with caplog.at_level(logging.WARNING, logger="pbk_migrations"):
        assert "Applied 1700000001_plain.py" in migrate_up(tmp_path, files).output
    assert sorted(p.name for p in (tmp_path / "pb_migrations").iterdir()) == list(files)
    assert "PocketBase's JavaScript migrations are not run by pbk: 1700000000_created_posts.js" in caplog.text


def test_automigrate_never_names_a_file_like_a_test_module(tmp_path: Path) -> None:
    script = '''
from pbk_sdk.interfaces import COLLECTIONS
await app.state[COLLECTIONS].save({"name": "latest_test"})
'''
    result = pbk(tmp_path / "pb_data", "shell", input=script)
    assert result.exit_code == 0, result.output
    assert [p.name.partition("_")[2] for p in (tmp_path / "pb_migrations").iterdir()] == ["created_latest_test_.py"]
