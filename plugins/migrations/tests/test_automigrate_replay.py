"""Automigrate on a live ``pbk serve --workers 2``: collection changes through the API write
migration files; a fresh data dir replaying them (with a hand-written one) on two workers
ends with the same schema, each migration run once; ``pbk migrate down`` reverts the last
and ``up`` applies it again; system migrations refuse to go down."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from migrations_testing import PLUGINS, applied, db_flags, pbk, query, schema
from pbk_sdk.testing.servers import start_live_server

EMAIL, PASSWORD = "root@example.com", "su-password-123"
SEED = '''"""Written by hand: a table of its runs, and a user saved through the records API."""
import os


def up(app):
    app.execute("CREATE TABLE IF NOT EXISTS seed_runs (pid INTEGER NOT NULL)")
    app.execute("INSERT INTO seed_runs (pid) VALUES (?)", [os.getpid()])
    app.save_record("users", {"email": "seed@example.com", "password": "seed-pass-123",
                              "passwordConfirm": "seed-pass-123"})
    assert len(app.find_records("users", "email = {:email}", params={"email": "seed@example.com"})) == 1


def down(app):
    app.execute("DROP TABLE seed_runs")
'''
#: What each API change below writes, in order.
WRITTEN = ["seed", "created_tags", "created_posts", "updated_posts", "updated_posts", "updated_users", "created_notes",
           "created_post_titles", "deleted_notes", "created_extras", "updated_tags"]


def change_schema(api: httpx.Client) -> None:
    """Every kind of change: create (base, auth, view), update (a new one, a system one),
    delete, import (one new, one changed)."""
    tags = api.post("/api/collections", json={"name": "tags", "fields": [{"name": "label", "type": "text"}]})
    assert tags.status_code == 200, tags.text
    posts = api.post("/api/collections", json={
        "name": "posts", "listRule": "",
        "fields": [{"name": "title", "type": "text", "required": True},
                   {"name": "tags", "type": "relation", "collectionId": tags.json()["id"], "maxSelect": 5}],
        "indexes": ["CREATE INDEX idx_posts_title ON posts (title)"]})
    assert posts.status_code == 200, posts.text
    fields = [*posts.json()["fields"], {"name": "views", "type": "number", "onlyInt": True}]
    assert api.patch("/api/collections/posts", json={"fields": fields, "viewRule": ""}).status_code == 200
    swapped = api.get("/api/collections/posts").json()["fields"]
    swapped[1], swapped[2] = swapped[2], swapped[1]  # title after tags: only the whole list says it
    assert api.patch("/api/collections/posts", json={"fields": swapped}).status_code == 200
    users = api.get("/api/collections/users").json()
    users_fields = [*users["fields"], {"name": "nickname", "type": "text", "max": 30}]
    assert api.patch("/api/collections/users", json={"fields": users_fields}).status_code == 200
    assert api.post("/api/collections", json={"name": "notes", "type": "auth"}).status_code == 200
    view = {"name": "post_titles", "type": "view", "viewQuery": "SELECT id, title FROM posts"}
    assert api.post("/api/collections", json=view).status_code == 200
    assert api.delete("/api/collections/notes").status_code == 204
    imported = api.put("/api/collections/import", json={"collections": [
        {"name": "extras", "fields": [{"name": "note", "type": "editor"}]},
        {**api.get("/api/collections/tags").json(), "listRule": "label != ''"}]})
    assert imported.status_code == 204, imported.text


class Project:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.folder = root / "pb_migrations"
        self.data = root / "pb_data"
        self.replay = root / "replay"

    def files(self) -> list[str]:
        return sorted(p.name for p in self.folder.glob("*.py"))


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Project]:
    """The changes made through a live server, then the replay of its files on two workers."""
    project = Project(tmp_path_factory.mktemp("project"))
    project.folder.mkdir()
    (project.folder / "1700000000_seed.py").write_text(SEED)
    assert pbk(project.data, "superuser", "upsert", EMAIL, PASSWORD).exit_code == 0
    server = start_live_server(project.data, ["--plugins", PLUGINS, "--workers", "2", *db_flags(project.data)])
    try:
        token = httpx.post(f"{server.url}/api/collections/_superusers/auth-with-password",
                           json={"identity": EMAIL, "password": PASSWORD}).json()["token"]
        with httpx.Client(base_url=server.url, headers={"Authorization": token}, timeout=30) as api:
            change_schema(api)
    finally:
        assert server.stop() == 0, server.output()
    replay = start_live_server(project.replay, ["--plugins", PLUGINS, "--workers", "2", *db_flags(project.replay)])
    assert replay.stop() == 0, replay.output()
    yield project


def test_every_change_is_a_file_recorded_as_applied(project: Project) -> None:
    files = project.files()
    assert [re.sub(r"^\d+_", "", f)[:-3] for f in files] == WRITTEN
    assert applied(project.data)[-len(files):] == files
    created = next(f for f in files if f.endswith("_created_posts.py"))
    text = (project.folder / created).read_text()
    assert '"name": "posts",' in text and '"required": True,' in text and "def down(app):" in text
    assert '"created"' not in text
    added, swapped = (project.folder / files[3]).read_text(), (project.folder / files[4]).read_text()
    assert "FIELDS_ADDED = {\n    3: {" in added and '"fields"' not in added
    assert 'CHANGES = {\n    "fields": [' in swapped and "FIELDS_" not in swapped


def test_a_fresh_data_dir_replaying_the_files_has_the_same_schema(project: Project) -> None:
    assert schema(project.replay) == schema(project.data)
    assert applied(project.replay)[-len(WRITTEN):] == project.files()


def test_each_migration_ran_once_on_two_workers(project: Project) -> None:
    assert len(query(project.replay, "SELECT pid FROM seed_runs")) == 1
    assert query(project.replay, "SELECT count(*) FROM users WHERE email = 'seed@example.com'") == [(1,)]


def test_migrate_down_reverts_the_last_and_up_applies_it_again(project: Project) -> None:
    last = project.files()[-1]  # the import's change of tags' listRule
    rule = """SELECT "listRule" FROM _collections WHERE name = 'tags'"""
    cancelled = pbk(project.replay, "migrate", "down", input="n\n")
    assert "The command has been cancelled" in cancelled.output
    reverted = pbk(project.replay, "migrate", "down", input="y\n")
    assert reverted.exit_code == 0, reverted.output
    assert f"{last}\nDo you really want to revert the last 1 applied migration(s)?" in reverted.output
    assert f"Reverted {last}" in reverted.output
    assert query(project.replay, rule) == [(None,)] and last not in applied(project.replay)
    again = pbk(project.replay, "migrate", "up")
    assert f"Applied {last}" in again.output, again.output
    assert query(project.replay, rule) == [("label != ''",)]
    assert "No new migrations to apply." in pbk(project.replay, "migrate").output


def test_system_migrations_refuse_to_go_down(project: Project) -> None:
    before = applied(project.replay)
    refused = pbk(project.replay, "migrate", "down", "100", input="y\n")
    assert refused.exit_code == 1
    assert re.search(r"cannot revert \S+\.go: plugin '\w+' gives it no down step", refused.output), refused.output
    assert "nothing was reverted" in refused.output
    assert applied(project.replay) == before


def test_every_generated_down_undoes_its_up(project: Project) -> None:
    """Reverting every generated file leaves the schema of the hand-written one alone."""
    generated = len(WRITTEN) - 1
    reverted = pbk(project.replay, "migrate", "down", str(generated), input="y\n")
    assert reverted.exit_code == 0 and reverted.output.count("Reverted ") == generated, reverted.output
    seed_only = project.root / "seed_only"
    (seed_only / "pb_migrations").mkdir(parents=True)
    (seed_only / "pb_migrations" / "1700000000_seed.py").write_text(SEED)
    assert pbk(seed_only / "pb_data", "migrate", "up").exit_code == 0
    assert schema(project.replay) == schema(seed_only / "pb_data")
