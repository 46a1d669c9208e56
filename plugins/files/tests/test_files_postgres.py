"""Where a view's file field is read from, on the real PostgreSQL at 127.0.0.1:5432 (one fresh
database for this module): PostgreSQL's result metadata, followed through views of views."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pbk_files.serve import _column_origin_postgres
from pbk_postgres import PgConnection
from pbk_sdk.testing import postgres_database


@pytest.fixture(scope="module")
def conn() -> Iterator[PgConnection]:
    with postgres_database() as url:
        connection = PgConnection.connect(url)
        for sql in (
            'CREATE TABLE "docs" ("id" TEXT COLLATE "C" PRIMARY KEY, "file" TEXT, "n" DOUBLE PRECISION)',
            'CREATE TABLE "people" ("id" TEXT COLLATE "C" PRIMARY KEY, "avatar" TEXT)',
            'CREATE VIEW "docs view" AS SELECT d.id, d.file AS attachment, d.n + 1 AS calc FROM "docs" d',
            ('CREATE VIEW "nested" AS SELECT v.id, v.attachment AS again, p.avatar FROM "docs view" v '
             'JOIN "people" p ON p.id = v.id'),
        ):
            connection.execute(sql)
        try:
            yield connection
        finally:
            connection.close()


@pytest.mark.parametrize(("view", "column", "origin"), [
    ("docs view", "attachment", ("docs", "file")),
    ("docs view", "calc", None),  # computed: no source column
    ("nested", "again", ("docs", "file")),  # through the inner view
    ("nested", "avatar", ("people", "avatar")),
    ("nested", "missing", None),
    ("no such view", "attachment", None),
    ('quo"ted', "x", None),
])
def test_a_view_columns_origin(conn: PgConnection, view: str, column: str, origin: tuple[str, str] | None) -> None:
    assert _column_origin_postgres(conn, view, column) == origin
