"""Live servers: logs under load on two workers, and ``_logs`` as the real PocketBase has it
(the item shape, the refusals, one data dir opened by both programs)."""

from __future__ import annotations

import asyncio
import itertools
import json
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pbk_logs.limits import fit_data
from pbk_sdk.testing import pocketbase_superuser, superuser_token
from pbk_sdk.testing.postgres import database_for, engine_under_test

EMAIL, PASSWORD = "root@example.com", "1234567890"
PLUGINS = "records,auth,settings,logs"
POSTGRES = engine_under_test() == "postgresql"


def pbk_superuser_upsert(data_dir: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pbk", "--plugins", PLUGINS, "--dir", str(data_dir),
         *(["--db", database_for(data_dir)] if POSTGRES else []), "superuser", "upsert", EMAIL, PASSWORD],
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert done.returncode == 0, done.stderr


def query(data_dir: Path, database: str, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """``sql`` on pbk's ``database`` file of ``data_dir``, or on its PostgreSQL database."""
    if POSTGRES:
        from pbk_postgres import PgConnection

        conn = PgConnection.connect(database_for(data_dir))
        try:
            return conn.execute(sql, params).fetchall()
        finally:
            conn.close()
    with sqlite3.connect(data_dir / database) as conn:
        return conn.execute(sql, params).fetchall()


def logs_until(url: str, token: str, expected: int, user_agent: str, timeout: float = 15.0) -> list[dict]:
    """``/api/logs`` items of requests sent with ``user_agent`` once ``expected`` of them are
    written (PocketBase writes 3 s after the last entry, pbk within a second; the polling
    requests are logged too, so they must not count)."""
    deadline = time.monotonic() + timeout
    while True:
        query = f"perPage=500&sort=created&filter=data.userAgent%3D%27{user_agent}%27"
        listed = httpx.get(f"{url}/api/logs?{query}", headers={"Authorization": token}).json()
        if listed["totalItems"] >= expected or time.monotonic() > deadline:
            return listed["items"]
        time.sleep(0.3)


async def spread(url: str, paths: list[str], headers: dict[str, str] | None = None) -> None:
    """GET every path, 100 at a time over 16 connections (so both workers serve some)."""
    async with httpx.AsyncClient(base_url=url, headers=headers, limits=httpx.Limits(max_connections=16)) as client:
        for start in range(0, len(paths), 100):
            answers = await asyncio.gather(*(client.get(path) for path in paths[start : start + 100]))
            assert {answer.status_code for answer in answers} == {200}


def patch_logs(url: str, token: str, logs: dict) -> None:
    assert httpx.patch(f"{url}/api/settings", json={"logs": logs}, headers={"Authorization": token}).status_code == 200


@pytest.mark.slow
def test_two_workers_honour_the_settings_and_lose_nothing_on_a_clean_stop(live_server_factory, tmp_path):
    data_dir = tmp_path / "pb_data"
    pbk_superuser_upsert(data_dir)
    server = live_server_factory(["--plugins", PLUGINS, "--workers", "2"], data_dir=data_dir)
    token = superuser_token(server.url, EMAIL, PASSWORD)
    patch_logs(server.url, token, {"maxDays": 0})
    asyncio.run(spread(server.url, [f"/api/health?off={n}" for n in range(100)]))
    patch_logs(server.url, token, {"maxDays": 5, "logIP": False, "logAuthId": True})
    asyncio.run(spread(server.url, [f"/api/health?su={n}" for n in range(100)], {"Authorization": token}))
    total = 600
    asyncio.run(spread(server.url, [f"/api/health?n={n}" for n in range(total)]))
    assert server.stop() == 0  # at once: part of the last rows still waits in the buffers
    rows = query(data_dir, "auxiliary.db", "SELECT message, data ->> 'authId', data ->> 'userIP' FROM _logs")
    messages = [message for message, *_ in rows]
    assert not [m for m in messages if "?off=" in m]  # maxDays 0 in both workers: nothing
    assert sorted(m for m in messages if m.startswith("GET /api/health?n=")) == sorted(
        f"GET /api/health?n={n}" for n in range(total)
    )
    superuser_rows = [row for row in rows if "?su=" in row[0]]
    assert len(superuser_rows) == 100
    assert {(auth_id, ip) for _, auth_id, ip in superuser_rows} == {(superuser_id(data_dir), None)}


def superuser_id(data_dir: Path) -> str:
    return str(query(data_dir, "data.db", "SELECT id FROM _superusers WHERE email = ?", (EMAIL,))[0][0])


def requests_both_make(url: str, token: str, user_token: str) -> None:
    """The same requests to either server."""
    httpx.get(f"{url}/api/nope", headers={"Referer": "http://example.com/", "User-Agent": "diff/1"})
    httpx.post(f"{url}/api/collections/users/records", json={"email": "not-an-email"}, headers={"User-Agent": "diff/1"})
    httpx.get(f"{url}/api/collections", headers={"Authorization": token, "User-Agent": "diff/1"})
    httpx.get(f"{url}/api/collections/users/records?filter=%28%28", headers={"User-Agent": "diff/1"})
    httpx.get(f"{url}/api/logs", headers={"Authorization": user_token, "User-Agent": "diff/1"})


def sign_up(url: str) -> str:
    body = {"email": "ada@example.com", "password": PASSWORD, "passwordConfirm": PASSWORD}
    assert httpx.post(f"{url}/api/collections/users/records", json=body).status_code == 200
    signed = httpx.post(f"{url}/api/collections/users/auth-with-password", json={"identity": body["email"], "password": PASSWORD})
    return str(signed.json()["token"])


def refusals(url: str, user_token: str, token: str) -> list[tuple[int, dict]]:
    answers = [
        httpx.get(f"{url}/api/logs"),
        httpx.get(f"{url}/api/logs/stats", headers={"Authorization": user_token}),
        httpx.delete(f"{url}/api/logs", headers={"Authorization": user_token}),
        httpx.get(f"{url}/api/logs/missing", headers={"Authorization": token}),
        httpx.get(f"{url}/api/logs/stats?filter=%28%28", headers={"Authorization": token}),
        httpx.get(f"{url}/api/logs?sort=nope", headers={"Authorization": token}),
    ]
    return [(answer.status_code, answer.json()) for answer in answers]


def shape(item: dict) -> tuple:
    """What must agree between the servers: everything but ids, times and Go's own error texts."""
    data = item["data"]
    return (
        sorted(item), item["message"], item["level"], sorted(data), data["status"], data["method"],
        data["url"], data["auth"], data.get("error"), data["referer"], data["userAgent"],
        type(data["execTime"]), data.get("userIP"), data.get("remoteIP"),
    )


@pytest.mark.slow
def test_items_and_refusals_match_pocketbase(live_server_factory, pocketbase_factory, tmp_path):
    pocketbase_superuser(tmp_path / "pb_real", EMAIL, PASSWORD)
    pbk_superuser_upsert(tmp_path / "pb_data")
    servers = [pocketbase_factory(), live_server_factory(["--plugins", PLUGINS])]
    results = []
    for server in servers:
        token = superuser_token(server.url, EMAIL, PASSWORD)
        user_token = sign_up(server.url)
        requests_both_make(server.url, token, user_token)
        write_buffered_logs(server.url)
        items = logs_until(server.url, token, 5, "diff/1")
        stats = httpx.get(f"{server.url}/api/logs/stats", headers={"Authorization": token}).json()
        # Sorted: two rows of one millisecond may be written by two workers in either order.
        results.append((sorted(map(shape, items), key=repr), refusals(server.url, user_token, token), stats))
    (pocketbase_items, pocketbase_refusals, pocketbase_stats), (pbk_items, pbk_refusals, pbk_stats) = results
    assert len(pocketbase_items) == 5
    assert pbk_items == pocketbase_items
    assert pbk_refusals == pocketbase_refusals
    for stats in (pocketbase_stats, pbk_stats):  # an hour may turn between the two: keys only
        assert stats and all(sorted(bucket) == ["date", "total"] for bucket in stats)
    deleted = [httpx.delete(f"{s.url}/api/logs", headers={"Authorization": superuser_token(s.url, EMAIL, PASSWORD)})
               for s in servers]
    assert [answer.status_code for answer in deleted] == [204, 204]


@pytest.mark.slow
@pytest.mark.skipif(POSTGRES, reason="PocketBase's data is in SQLite: it cannot open pbk's PostgreSQL database")
def test_one_data_dir_with_logs_moves_both_ways(live_server_factory, pocketbase_factory, tmp_path):
    data_dir = tmp_path / "pb_data"
    pbk_superuser_upsert(data_dir)
    pbk = live_server_factory(["--plugins", PLUGINS], data_dir=data_dir)
    httpx.get(f"{pbk.url}/api/nope?from=pbk")
    assert pbk.stop() == 0
    pocketbase = pocketbase_factory(data_dir=data_dir)
    token = superuser_token(pocketbase.url, EMAIL, PASSWORD)
    seen_by_pocketbase = httpx.get(f"{pocketbase.url}/api/logs?filter=data.url~'from=pbk'", headers={"Authorization": token})
    assert [item["message"] for item in seen_by_pocketbase.json()["items"]] == ["GET /api/nope?from=pbk"]
    httpx.get(f"{pocketbase.url}/api/nope?from=pocketbase")
    assert pocketbase.stop() == 0
    pbk = live_server_factory(["--plugins", PLUGINS], data_dir=data_dir)
    token = superuser_token(pbk.url, EMAIL, PASSWORD)
    seen_by_pbk = httpx.get(f"{pbk.url}/api/logs?filter=data.status=404&sort=created", headers={"Authorization": token})
    assert [item["message"] for item in seen_by_pbk.json()["items"]] == ["GET /api/nope?from=pbk", "GET /api/nope?from=pocketbase"]


#: A failed create inside a batch: PocketBase logs its ``details`` five objects deep, with a
#: number (``"params":{"max":12345}``), all before the row's varying ``execTime``.
THINGS = {"name": "things", "type": "base", "createRule": "", "fields": [{"name": "n", "type": "number", "max": 12345}]}
FAILING_BATCH = {"requests": [{"method": "POST", "url": "/api/collections/things/records", "body": {"n": 99999}}]}


def write_buffered_logs(url: str) -> None:
    """PocketBase writes its buffered log rows 3 s after the first or once 200 wait: 200 quick
    requests have them written now (pbk writes within a second anyway)."""
    with httpx.Client(base_url=url) as client:
        for _ in range(200):
            client.get("/api/health")


def logged_data(url: str, token: str, tag: str) -> dict:
    """The ``data`` of the row logged for the request tagged ``tag``, ``execTime`` aside."""
    write_buffered_logs(url)
    deadline = time.monotonic() + 15
    while not (items := httpx.get(f"{url}/api/logs?filter=message~'{tag}'", headers={"Authorization": token}).json()["items"]):
        assert time.monotonic() < deadline
        time.sleep(0.3)
    return {key: value for key, value in items[0]["data"].items() if key != "execTime"}


def cut_rows(url: str, token: str, sizes: list[int]) -> list[dict]:
    """The ``data`` of a failed sign-up (``details`` of one member, then a long User-Agent)
    under each ``maxDataSize`` of ``sizes``."""
    kept = []
    body = {"email": "not-an-email", "password": PASSWORD, "passwordConfirm": PASSWORD}
    for size in sizes:
        patch_logs(url, token, {"maxDataSize": size})
        headers = {"User-Agent": "U" * 400, "Referer": "R" * 50}
        httpx.post(f"{url}/api/collections/users/records?cut{size}", json=body, headers=headers)
        kept.append(logged_data(url, token, f"cut{size}"))
    return kept


@pytest.mark.slow
def test_max_data_size_cuts_data_as_pocketbase_does(live_server_factory, pocketbase_factory, tmp_path):
    pocketbase_superuser(tmp_path / "pb_real", EMAIL, PASSWORD)
    pbk_superuser_upsert(tmp_path / "pb_data")
    servers = [pocketbase_factory(), live_server_factory(["--plugins", PLUGINS])]
    tokens = [superuser_token(s.url, EMAIL, PASSWORD) for s in servers]
    pocketbase_rows = cut_rows(servers[0].url, tokens[0], [35, 450])  # inside details, inside userAgent
    assert pocketbase_rows[0] == {"__pb_truncated__": True, "auth": "", "details": {"email": None}}
    assert pocketbase_rows[1]["userAgent"] is None
    # The row's JSON is compact with sorted keys: its first bytes are known from the 450 cut.
    details = json.dumps({"auth": "", "details": pocketbase_rows[1]["details"]}, separators=(",", ":"))[:-1]
    just_opened, inside_error_name = len('{"auth":"","details":{'), len(details) + len(',"err')
    pocketbase_rows += cut_rows(servers[0].url, tokens[0], [just_opened, inside_error_name])
    assert pocketbase_rows[2] == {"__pb_truncated__": True, "auth": "", "details": {}}
    assert pocketbase_rows[3] == {"__pb_truncated__": True, "auth": "", "details": pocketbase_rows[1]["details"]}
    pbk_rows = cut_rows(servers[1].url, tokens[1], [35, 450, just_opened, inside_error_name])
    assert pbk_rows == pocketbase_rows


def layouts(value: Any) -> Iterator[Any]:
    """``value`` with the members of each object in every order (as dicts keep it)."""
    if not isinstance(value, dict):
        yield value
        return
    for order in itertools.permutations(value):
        for members in itertools.product(*(list(layouts(value[key])) for key in order)):
            yield dict(zip(order, members))


@pytest.mark.slow
def test_max_data_size_cuts_nested_data_as_pocketbase_does(pocketbase_factory, tmp_path):
    """What PocketBase keeps of a failed batch's row cut inside its nested ``details`` (inside a
    key, a number, between members) is what pbk's ``fit_data`` keeps of that row. PocketBase
    writes the members of those nested objects in a different order each time, so the cut
    lands in a different place: what it kept must be pbk's cut of one of the orders. (pbk's own
    rows cannot be compared here: it logs a failed batch's ``details`` flatter.)"""
    pocketbase_superuser(tmp_path / "pb_real", EMAIL, PASSWORD)
    server = pocketbase_factory()
    token = superuser_token(server.url, EMAIL, PASSWORD)
    headers = {"Authorization": token}
    assert httpx.post(f"{server.url}/api/collections", json=THINGS, headers=headers).status_code == 200
    assert httpx.patch(f"{server.url}/api/settings", json={"batch": {"enabled": True}}, headers=headers).status_code == 200
    httpx.post(f"{server.url}/api/batch?batchfull", json=FAILING_BATCH)
    logged_data(server.url, token, "batchfull")
    with sqlite3.connect(tmp_path / "pb_real" / "auxiliary.db") as conn:
        [(full,)] = conn.execute("SELECT data FROM _logs WHERE message LIKE '%batchfull%'").fetchall()
    head, tail = '{"auth":"","details":', full[full.index(',"error"'):]  # the top level is sorted
    assert full.startswith(head)
    rows = [head + json.dumps(layout, separators=(",", ":")) + tail for layout in layouts(json.loads(full)["details"])]
    assert len(rows) == 216 and full in rows
    for size in (full.index('"response"') + 4, full.index(":12345") + 4, full.index('"code"')):
        patch_logs(server.url, token, {"maxDataSize": size})
        httpx.post(f"{server.url}/api/batch?batchcut{size}", json=FAILING_BATCH)
        kept = logged_data(server.url, token, f"batchcut{size}")
        pbk_cuts = [{k: v for k, v in json.loads(fit_data(row, size)).items() if k != "execTime"} for row in rows]
        assert kept in pbk_cuts, (size, kept)
