"""The ``table_filter`` service: the filter language over a table that is no collection."""

from __future__ import annotations

import pytest
from pbk_sdk.errors import ApiError
from pbk_sdk.interfaces import TABLE_FILTER, FixedTable

EVENTS = FixedTable("events", {"id": "text", "level": "number", "done": "bool", "data": "json"})
ROWS = [("a", 0, True, '{"status": 200, "tags": {"x": "y"}}'), ("b", 8, False, '{"status": 404}'), ("c", 4, True, "{}")]


@pytest.fixture
def pbk_plugins():
    return ["records"]


@pytest.fixture
async def events_table(pbk_app):
    def create(conn):
        conn.execute("CREATE TABLE events (id TEXT PRIMARY KEY, level INTEGER, done BOOLEAN, data JSON)")
        conn.executemany("INSERT INTO events VALUES (?, ?, ?, ?)", ROWS)

    await pbk_app.db.write(create)


async def ids(pbk_app, filter="", sort=""):
    query = pbk_app.services.get(TABLE_FILTER, "records").compile(EVENTS, filter=filter, sort=sort)
    sql = "SELECT main.id FROM events AS main" + (f" WHERE {query.where}" if query.where else "")
    sql += f" ORDER BY {query.order_by}" if query.order_by else ""
    rows = await pbk_app.db.read(lambda conn: conn.execute(sql, (*query.params, *query.order_params)).fetchall())
    return [row[0] for row in rows]


def test_the_records_plugin_offers_it(pbk_app):
    assert [plugin for plugin, _ in pbk_app.call_hook("pbk_register_table_filters", app=pbk_app)] == ["records"]


@pytest.mark.parametrize(
    ("filter", "sort", "expected"),
    [
        ("level >= 4", "-level", ["b", "c"]),
        ("data.status = 404 || done = true", "id", ["a", "b", "c"]),
        ("data.tags.x = 'y'", "", ["a"]),
        ('id ~ "b" && data.status != 200', "", ["b"]),
        ("", "-data.status,id", ["b", "a", "c"]),
    ],
)
async def test_filters_and_sorts_on_the_columns_and_json_paths(pbk_app, events_table, filter, sort, expected):
    assert await ids(pbk_app, filter, sort) == expected


@pytest.mark.parametrize(
    ("filter", "sort"),
    [("nope = 1", ""), ("@collection.users.id = 'a'", ""), ("level >", ""), ("", "nope"), ("", "level:nope")],
)
async def test_anything_else_is_a_400(pbk_app, filter, sort):
    with pytest.raises(ApiError) as raised:
        await ids(pbk_app, filter, sort)
    assert raised.value.status == 400


def test_unknown_column_kinds_are_a_programming_error(pbk_app):
    with pytest.raises(ValueError, match="unknown column kinds"):
        pbk_app.services.get(TABLE_FILTER, "records").compile(FixedTable("t", {"a": "blob"}), filter="a = 1")


def test_pages_as_records_lists_do(pbk_app):
    page = pbk_app.services.get(TABLE_FILTER, "records").page({"page": "2", "perPage": "2000"})
    assert (page.number, page.size, page.offset) == (2, 1000, 1000)
    assert page.envelope([], 1001) == {"items": [], "page": 2, "perPage": 1000, "totalItems": 1001, "totalPages": 2}
