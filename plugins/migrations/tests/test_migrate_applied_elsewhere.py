"""A migration another process applied after this one saw it pending is skipped, not run
twice; a collection renamed through automigrate replays to the same schema."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from migrations_testing import PLUGINS, applied, db_flags, pbk, query, schema

#: Waits at import (after its process read the pending list, before the transaction) while
#: PBK_TEST_GATE names a folder, until the test lets it go on.
GATED = '''
import os
import pathlib
import time

gate = os.environ.get("PBK_TEST_GATE")
if gate:
    pathlib.Path(gate, "loaded").touch()
    deadline = time.monotonic() + 60
    while not pathlib.Path(gate, "go").exists() and time.monotonic() < deadline:
        time.sleep(0.02)


def up(app):
    app.execute("CREATE TABLE IF NOT EXISTS gated_runs (pid INTEGER NOT NULL)")
    app.execute("INSERT INTO gated_runs (pid) VALUES (?)", [os.getpid()])
'''
RENAME = '''
from pbk_sdk.interfaces import COLLECTIONS
drafts = await app.state[COLLECTIONS].save({"name": "drafts", "fields": [{"name": "title", "type": "text"}]})
await app.state[COLLECTIONS].save({"id": drafts.id, "name": "posts"})
'''


def _wait_for(path: Path, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 60
    while not path.exists():
        assert process.poll() is None and time.monotonic() < deadline, process.communicate()
        time.sleep(0.02)


def test_a_migration_applied_meanwhile_by_another_process_is_skipped(tmp_path: Path) -> None:
    (tmp_path / "pb_migrations").mkdir()
    (tmp_path / "pb_migrations" / "1700000001_gated.py").write_text(GATED)
    data_dir, gate = tmp_path / "pb_data", tmp_path / "gate"
    gate.mkdir()
    late = subprocess.Popen(
        [sys.executable, "-m", "pbk", "--dir", str(data_dir), "--plugins", PLUGINS, *db_flags(data_dir), "migrate", "up"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=tmp_path,
        env={**os.environ, "PBK_TEST_GATE": str(gate)})
    try:
        _wait_for(gate / "loaded", late)
        assert "Applied 1700000001_gated.py" in pbk(data_dir, "migrate", "up").output
    finally:
        (gate / "go").touch()
        output, _ = late.communicate(timeout=60)
    assert late.returncode == 0 and "No new migrations to apply." in output, output
    assert query(data_dir, "SELECT pid FROM gated_runs") == [(os.getpid(),)]  # run once, by this process
    assert applied(data_dir).count("1700000001_gated.py") == 1


def test_a_renamed_collection_replays_to_the_same_schema(tmp_path: Path) -> None:
    data_dir, replay = tmp_path / "pb_data", tmp_path / "replay"
    assert pbk(data_dir, "shell", input=RENAME).exit_code == 0
    names = sorted(p.name.partition("_")[2] for p in (tmp_path / "pb_migrations").glob("*.py"))
    assert names == ["created_drafts.py", "updated_drafts.py"]
    assert pbk(replay, "migrate", "up").exit_code == 0
    assert "posts" in [name for (name,) in query(replay, "SELECT name FROM _collections")]
    assert schema(replay) == schema(data_dir)
