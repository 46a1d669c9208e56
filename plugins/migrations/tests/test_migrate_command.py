"""``pbk migrate create|collections|history-sync``, a plugin migration going down, and
migrations that fail: start-up stops naming the file and the error, with nothing of it left."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from migrations_testing import (
    PLUGINS,
    applied,
    column_names,
    db_flags,
    has_table,
    migrate_up,
    pbk,
    query,
    schema,
)

BROKEN = '''def up(app):
    app.save_collection({"name": "broken", "fields": [{"name": "title", "type": "text"}]})
    1 / 0
'''
GOOD = '''def up(app):
    app.save_collection({"name": "good", "fields": [{"name": "title", "type": "text"}]})
'''
INVALID = '''def up(app):
    app.save_collection({"name": "no spaces please"})
'''
SCRIPTED = '''
def up(app):
    posts = app.save_collection({"name": "posts", "fields": [{"name": "title", "type": "text"}]})
    assert app.find_collection("posts")["id"] == posts["id"] and app.find_collection("nope") is None
    first = app.save_record("posts", {"title": "one"})
    app.save_record("posts", {"id": first["id"], "title": "uno"})
    app.delete_record("posts", app.save_record("posts", {"title": "two"})["id"])
    assert app.find_record("posts", first["id"])["title"] == "uno"
    assert app.execute("SELECT title FROM posts WHERE id = ?", [first["id"]]) == [("uno",)]
'''
EXTRA_PLUGIN = '''
from pbk_sdk import Migration, hookimpl


def create(conn):
    conn.execute("CREATE TABLE extra (n INTEGER)")


def drop(conn):
    conn.execute("DROP TABLE extra")


@hookimpl
def pbk_register_migrations(app):
    return [Migration("1900000000_extra.py", create, down=drop)]
'''


def collection_names(data_dir: Path) -> list[str]:
    return [row[0] for row in query(data_dir, "SELECT name FROM _collections ORDER BY name")]


def test_a_failing_migration_stops_the_start_with_its_file_and_error(tmp_path: Path) -> None:
    folder = tmp_path / "schema"
    folder.mkdir()
    (folder / "1700000001_good.py").write_text(GOOD)
    (folder / "1700000002_broken.py").write_text(BROKEN)
    data_dir = tmp_path / "pb_data"
    started = subprocess.run(
        [sys.executable, "-m", "pbk", "serve", "--http", "127.0.0.1:0", "--dir", str(data_dir), "--plugins", PLUGINS,
         *db_flags(data_dir),
         "--workers", "2", "--migrationsDir", "schema"],
        capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL, check=False, cwd=tmp_path)
    assert started.returncode == 1
    assert "failed to apply migration schema/1700000002_broken.py: line 3: ZeroDivisionError" in started.stderr
    assert "good" in collection_names(data_dir) and "broken" not in collection_names(data_dir)
    assert not has_table(data_dir, "broken")
    assert applied(data_dir)[-1] == "1700000001_good.py"


def test_an_invalid_collection_fails_with_the_api_s_message(tmp_path: Path) -> None:
    (tmp_path / "pb_migrations").mkdir()
    (tmp_path / "pb_migrations" / "1700000001_invalid.py").write_text(INVALID)
    result = pbk(tmp_path / "pb_data", "migrate", "up")
    assert result.exit_code == 1
    assert "line 2: Failed to create collection. (name: Must be in a valid format.)" in result.output


def test_create_writes_a_blank_migration_that_applies(tmp_path: Path) -> None:
    data_dir = tmp_path / "pb_data"
    assert pbk(data_dir, "migrate", "create").output.endswith("Error: missing migration file name\n")
    assert "The command has been cancelled" in pbk(data_dir, "migrate", "create", "addThings", input="n\n").output
    assert not (tmp_path / "pb_migrations").exists()
    created = pbk(data_dir, "migrate", "create", "addThings", input="y\n")
    [path] = (tmp_path / "pb_migrations").glob("*_add_things.py")
    assert f'Do you really want to create migration "{path}"? [y/N]: y\nSuccessfully created file "{path}"' in created.output
    assert "def up(app):" in path.read_text() and "def down(app):" in path.read_text()
    assert f"Applied {path.name}" in pbk(data_dir, "migrate", "up").output
    assert f"Reverted {path.name}" in pbk(data_dir, "migrate", "down", input="y\n").output
    assert path.name not in applied(data_dir)


def test_collections_snapshot_recreates_the_schema(tmp_path: Path) -> None:
    data_dir = tmp_path / "pb_data"
    (tmp_path / "pb_migrations").mkdir()
    (tmp_path / "pb_migrations" / "1700000001_good.py").write_text(GOOD)
    assert pbk(data_dir, "migrate", "up").exit_code == 0
    snapshot = pbk(data_dir, "migrate", "collections", input="y\n")
    assert snapshot.exit_code == 0, snapshot.output
    [path] = (tmp_path / "pb_migrations").glob("*_collections_snapshot.py")
    assert '"name": "good",' in path.read_text()
    (tmp_path / "pb_migrations" / "1700000001_good.py").unlink()
    synced = pbk(data_dir, "migrate", "history-sync")
    assert "The _migrations table was synced with the available migrations." in synced.output
    assert "1700000001_good.py" not in applied(data_dir)
    replay = tmp_path / "replay"
    assert f"Applied {path.name}" in pbk(replay, "migrate", "up").output
    assert schema(replay)[0] == schema(data_dir)[0]


def test_a_plugin_migration_goes_down_through_its_down_step(tmp_path: Path) -> None:
    data_dir, plugins = tmp_path / "pb_data", tmp_path / "plugins"
    plugins.mkdir()
    assert pbk(data_dir, "migrate", "up").exit_code == 0
    (plugins / "extra.py").write_text(EXTRA_PLUGIN)
    assert pbk(data_dir, "migrate", "up", plugins_dir=plugins).exit_code == 0  # the start applies it
    assert has_table(data_dir, "extra")
    reverted = pbk(data_dir, "migrate", "down", input="y\n", plugins_dir=plugins)
    assert "Reverted 1900000000_extra.py" in reverted.output, reverted.output
    assert not has_table(data_dir, "extra")
    assert "1900000000_extra.py" not in applied(data_dir)


def test_automigrate_can_be_turned_off(tmp_path: Path) -> None:
    script = '''
import asyncio
from pbk_sdk.interfaces import COLLECTIONS
async def main(app):
    await app.state[COLLECTIONS].save({"name": "quiet"})
'''
    folder = tmp_path / "pb_migrations"
    for flag, written in (("--automigrate=false", 0), ("--automigrate", 1)):
        data_dir = tmp_path / flag.replace("=", "_")
        result = pbk(data_dir, flag, "shell", input=script + "\nawait main(app)\n")
        assert result.exit_code == 0, result.output
        assert len(list(folder.glob("*_created_quiet.py"))) == written, result.output


def test_a_migration_uses_collections_records_and_sql_in_its_transaction(tmp_path: Path) -> None:
    """Each call sees the ones before it, also a collection created in the same migration."""
    (tmp_path / "pb_migrations").mkdir()
    (tmp_path / "pb_migrations" / "1700000001_scripted.py").write_text(SCRIPTED)
    result = pbk(tmp_path / "pb_data", "migrate", "up")
    assert "Applied 1700000001_scripted.py" in result.output, result.output
    assert query(tmp_path / "pb_data", "SELECT title FROM posts") == [("uno",)]


NEW_FIELD = '''
def up(app):
    fields = app.find_collection("good")["fields"] + [{"name": "body", "type": "text"}]
    app.update_collection("good", {"fields": fields}, add_fields={0: {"name": "lead", "type": "text"}})
'''
SAME_NAME_OTHER_ID = '''
def up(app):
    app.save_collection({"id": "pbc_0000000000000", "name": "good", "fields": [{"name": "other", "type": "text"}]})
'''


def test_update_collection_takes_new_fields_without_ids(tmp_path: Path) -> None:
    result = migrate_up(tmp_path, {"1700000001_good.py": GOOD, "1700000002_new_field.py": NEW_FIELD})
    assert "Applied 1700000002_new_field.py" in result.output, result.output
    [(fields,)] = query(tmp_path / "pb_data", "SELECT fields FROM _collections WHERE name = 'good'")
    assert [f["name"] for f in json.loads(fields)] == ["lead", "id", "title", "body"]


def test_saving_an_unknown_id_under_a_taken_name_fails(tmp_path: Path) -> None:
    result = migrate_up(tmp_path, {"1700000001_good.py": GOOD, "1700000002_other_good.py": SAME_NAME_OTHER_ID})
    assert result.exit_code == 1
    assert "1700000002_other_good.py: line 3: Failed to create collection. (name: Collection name must be unique" in result.output, result.output
    assert "other" not in column_names(tmp_path / "pb_data", "good")


def test_down_with_a_negative_count_lists_every_migration_after_a_double_dash(tmp_path: Path) -> None:
    """As PocketBase's: ``down -1`` is an unknown flag, ``down -- -1`` means all."""
    data_dir = tmp_path / "pb_data"
    assert migrate_up(tmp_path, {"1700000001_good.py": GOOD}).exit_code == 0
    assert "No such option '-1'" in pbk(data_dir, "migrate", "down", "-1").output
    listed = pbk(data_dir, "migrate", "down", "--", "-1", input="n\n").output
    assert f"revert the last {len(applied(data_dir))} applied migration(s)?" in listed, listed
    assert "1700000001_good.py\n" in listed and "The command has been cancelled" in listed


def test_history_sync_forgets_only_the_folder_s_own_files(tmp_path: Path) -> None:
    data_dir = tmp_path / "pb_data"
    assert migrate_up(tmp_path, {"1700000001_good.py": GOOD}).exit_code == 0
    others = ["1600000000_created_posts.js", "1900000000_unloaded_plugin.go"]
    query(data_dir, "INSERT INTO _migrations (file, applied) VALUES (?, 1), (?, 1)", *others)
    (tmp_path / "pb_migrations" / "1700000001_good.py").unlink()
    assert pbk(data_dir, "migrate", "history-sync").exit_code == 0
    assert "1700000001_good.py" not in applied(data_dir)
    assert set(others) <= set(applied(data_dir))
