"""The in-process read ceiling: pbk's view query and JSON encoding, directly with APSW + orjson.

One thread, no HTTP, no auth, no rules, no events: what SQLite and serialisation alone cost, so
the table shows how much the server layer adds on top.
"""

from __future__ import annotations

import time
from pathlib import Path

from .loadgen import percentile


def run(data_db: Path, ids: list[str], seconds: float) -> dict[str, float]:
    import apsw
    import orjson

    connection = apsw.Connection(str(data_db), flags=apsw.SQLITE_OPEN_READONLY)
    collection_id = connection.execute(
        "SELECT id FROM _collections WHERE name = 'posts'").fetchone()[0]
    sql = ("SELECT author, body, created, id, published, tags, title, updated, views "
           "FROM posts WHERE id = ? LIMIT 1")
    latencies: list[float] = []
    count = 0
    started = time.perf_counter()
    deadline = started + seconds
    while True:
        begin = time.perf_counter()
        if begin >= deadline:
            break
        row = connection.execute(sql, (ids[count % len(ids)],)).fetchone()
        author, body, created, record_id, published, tags, title, updated, views = row
        payload = orjson.dumps({
            "author": author, "body": body, "collectionId": collection_id,
            "collectionName": "posts", "created": created, "id": record_id,
            "published": bool(published), "tags": orjson.loads(tags), "title": title,
            "updated": updated, "views": views,
        })
        assert payload
        count += 1
        latencies.append(time.perf_counter() - begin)
    elapsed = time.perf_counter() - started
    connection.close()
    latencies.sort()
    return {"throughput": count / elapsed, "p50_ms": percentile(latencies, 50) * 1000,
            "p99_ms": percentile(latencies, 99) * 1000, "requests": count, "seconds": elapsed}
