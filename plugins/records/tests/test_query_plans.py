"""Lists use the schema's indexes: filters and sorts compile to SQL SQLite can search."""

from __future__ import annotations

import pytest
from pbk_records.filter import RequestInfo, compile_filter, compile_sort
from pbk_records.plugin import RECORDS
from pbk_sdk.testing import postgres

pytestmark = pytest.mark.skipif(postgres.engine_under_test() == "postgresql", reason="SQLite's query plans")


@pytest.fixture
def pbk_plugins() -> list[str]:
    return ["records"]


@pytest.mark.parametrize(
    ("expression", "sort", "plan"),
    [
        ("title = 'abc'", "", "SEARCH main USING INDEX idx_title (title=?)"),
        ("views > 10", "-views", "SEARCH main USING INDEX idx_views (views>?)"),
        ("views >= 5 && views < 10", "", "SEARCH main USING INDEX idx_views (views>? AND views<?)"),
        ("title ~ 'abc'", "title", "SCAN main USING INDEX idx_title"),
    ],
)
async def test_filters_and_sorts_use_the_collections_indexes(pbk_app, expression, sort, plan):
    plugin = pbk_app.state[RECORDS]
    await plugin.changes.create({
        "name": "posts", "type": "base", "listRule": "",
        "fields": [{"name": "title", "type": "text"}, {"name": "views", "type": "number"}],
        "indexes": ["CREATE INDEX idx_title ON posts (title)", "CREATE INDEX idx_views ON posts (views)"],
    })
    collection = plugin.registry.get("posts")
    guest = RequestInfo(auth=None, body={}, query={}, headers={}, method="GET", context="default", is_superuser=False)
    where = compile_filter(expression, collection, plugin.registry, guest, mode="filter", table_alias="main")
    sql, params = f"SELECT main.* FROM posts AS main WHERE {where.sql}", list(where.params)
    if sort:
        order = compile_sort(sort, collection, plugin.registry, guest)
        sql, params = f"{sql} ORDER BY {order.sql}", params + list(order.params)
    rows = await pbk_app.db.read(lambda conn: conn.execute(f"EXPLAIN QUERY PLAN {sql} LIMIT 30", params).fetchall())
    assert plan in [row[3] for row in rows]
