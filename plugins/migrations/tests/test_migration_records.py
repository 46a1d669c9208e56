"""Records inside a migration see the collections the same migration created or changed:
relations to them, their cascade deletes and filters through their relations."""

from __future__ import annotations

from pathlib import Path

from migrations_testing import migrate_up, query

SAVE_BOOKS = '''
def save_books(app):
    app.save_collection({"name": "books", "fields": [
        {"name": "title", "type": "text"},
        {"name": "author", "type": "relation", "collectionId": app.find_collection("authors")["id"],
         "cascadeDelete": True, "maxSelect": 1},
    ]})
'''
LIBRARY = SAVE_BOOKS + '''

def up(app):
    app.save_collection({"name": "authors", "fields": [{"name": "name", "type": "text"}]})
    save_books(app)
    ann = app.save_record("authors", {"name": "Ann"})
    bob = app.save_record("authors", {"name": "Bob"})
    app.save_record("books", {"title": "A", "author": ann["id"]})
    app.save_record("books", {"title": "B", "author": bob["id"]})
    assert [b["title"] for b in app.find_records("books", filter="author.name = 'Bob'")] == ["B"]
    app.delete_record("authors", ann["id"])
'''
AUTHORS = '''
def up(app):
    app.save_collection({"name": "authors", "fields": [{"name": "name", "type": "text"}]})
    app.save_record("authors", {"name": "Ann"})
'''
BOOKS = SAVE_BOOKS + '''

def up(app):
    save_books(app)
    [ann] = app.find_records("authors")
    app.save_record("books", {"title": "A", "author": ann["id"]})
    app.delete_record("authors", ann["id"])
'''


def test_relations_cascades_and_filters_see_the_migration_s_own_collections(tmp_path: Path) -> None:
    result = migrate_up(tmp_path, {"1700000001_library.py": LIBRARY})
    assert "Applied 1700000001_library.py" in result.output, result.output
    assert query(tmp_path / "pb_data", "SELECT title FROM books") == [("B",)]


def test_a_committed_collection_cascades_into_one_the_migration_created(tmp_path: Path) -> None:
    result = migrate_up(tmp_path, {"1700000001_authors.py": AUTHORS, "1700000002_books.py": BOOKS})
    assert "Applied 1700000002_books.py" in result.output, result.output
    assert query(tmp_path / "pb_data", "SELECT count(*) FROM books") == [(0,)]
