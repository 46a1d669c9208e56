"""Write rules on a live single-worker ``pbk serve`` and, where PocketBase 0.40.6 is the
reference, the same requests on the real binary: rules that name the auth collection refuse
whom they name, a create cannot relate to its own new id, and a costly update rule runs off
the event loop (a health check answers while it runs)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import apsw
import httpx
import pytest
from pbk_sdk.testing import pocketbase_and_pbk, postgres
from pbk_sdk.testing.programs import Program

pytestmark = pytest.mark.slow

PLUGINS = ["records", "auth"]
BANNED_RULE = (
    "@request.auth.collectionName = 'members' && @request.auth.collectionId != '' && @request.auth.role != 'banned'"
)
#: rows of ``big``, and the width of each ``v``: a ``~`` over all of them takes SQLite a while
BIG_ROWS, BIG_WIDTH = 400_000, 300
NEEDLE = "needle"


def prepare(program: Program) -> None:
    client = program.client
    for spec in (
        {
            "name": "members",
            "type": "auth",
            "passwordAuth": {"enabled": True, "identityFields": ["email"]},
            "fields": [{"name": "role", "type": "text"}],
        },
        {"name": "notes", "type": "base", "updateRule": BANNED_RULE, "fields": [{"name": "title", "type": "text"}]},
        {"name": "nodes", "type": "base", "createRule": "title != 'nope'", "fields": [{"name": "title", "type": "text"}]},
    ):
        created = client.post("/api/collections", json=spec)
        assert created.status_code == 200, created.text
    nodes = client.get("/api/collections/nodes").json()
    parent = {"name": "parent", "type": "relation", "collectionId": nodes["id"], "maxSelect": 1}
    changed = client.patch("/api/collections/nodes", json={"fields": [*nodes["fields"], parent]})
    assert changed.status_code == 200, changed.text
    for role in ("banned", "member"):
        email = f"{role}@example.com"
        member = {"email": email, "password": "pass-12345", "passwordConfirm": "pass-12345", "role": role}
        assert client.post("/api/collections/members/records", json=member).status_code == 200


def token(program: Program, role: str) -> str:
    login = program.client.post(
        "/api/collections/members/auth-with-password", json={"identity": f"{role}@example.com", "password": "pass-12345"}
    )
    assert login.status_code == 200, login.text
    return str(login.json()["token"])


@pytest.fixture(scope="module")
def programs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[Program]]:
    """The real PocketBase and a single-worker ``pbk serve``, both prepared alike."""
    with pocketbase_and_pbk(tmp_path_factory.mktemp("rules"), PLUGINS, ["--workers", "1"]) as started:
        for program in started:
            prepare(program)
        yield started


def test_a_banned_member_is_refused_by_a_rule_that_also_names_the_auth_collection(programs: list[Program]) -> None:
    answers = []
    for program in programs:
        note = program.client.post("/api/collections/notes/records", json={"title": "a"}).json()
        path = f"/api/collections/notes/records/{note['id']}"
        statuses = []
        for role in ("banned", "member", "banned"):  # the first requester is the banned one
            response = httpx.patch(
                program.url + path, json={"title": role}, headers={"Authorization": token(program, role)}, timeout=30
            )
            statuses.append(response.status_code)
        stored = program.client.get(path).json()["title"]
        answers.append((statuses, stored))
    assert answers[0] == answers[1] == ([404, 200, 404], "member")


def test_a_create_whose_relation_names_its_own_new_id_is_refused_as_pocketbase_refuses(
    programs: list[Program],
) -> None:
    answers = []
    for program in programs:
        record_id = "selfref00000001"
        response = httpx.post(
            program.url + "/api/collections/nodes/records",
            json={"id": record_id, "title": "loop", "parent": record_id},
            timeout=30,
        )
        body = response.json()
        codes = {name: error["code"] for name, error in body.get("data", {}).items()}
        stored = program.client.get(f"/api/collections/nodes/records/{record_id}").status_code
        answers.append((response.status_code, codes, stored))
    assert answers[0] == answers[1] == (400, {"parent": "validation_missing_rel_records"}, 404)


def fill_big(data_dir: Path, rows: int) -> None:
    """``rows`` records of ``big`` written straight into the data file in one transaction."""
    conn = apsw.Connection(str(data_dir / "data.db"))
    conn.set_busy_timeout(10_000)
    with conn:
        conn.execute(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?) "
            "INSERT INTO big (id, v) SELECT printf('big%012d', i), printf('%0*d', ?, i) FROM n",
            (rows, BIG_WIDTH),
        )
    conn.close()


async def _timed(client: httpx.AsyncClient, method: str, path: str, **kwargs: Any) -> tuple[httpx.Response, float]:
    response = await client.request(method, path, **kwargs)
    return response, time.monotonic()


async def _update_and_health(url: str, path: str, body: dict[str, Any], headers: dict[str, str]) -> Any:
    """The update's answer, the first health check's answer and time, and how many health checks
    were answered while the update still ran: none if the update held the event loop. (Counted,
    not timed: a test process the machine starves for a moment sees both answers at once.)"""
    async with httpx.AsyncClient(base_url=url, timeout=120) as client:
        update = asyncio.create_task(_timed(client, "PATCH", path, json=body, headers=headers))
        await asyncio.sleep(0.01)  # the update is on the server by now (loopback)
        sent = time.monotonic()
        health, health_done = await _timed(client, "GET", "/api/health")
        answered_meanwhile = 0
        while not update.done():
            await client.get("/api/health")
            answered_meanwhile += not update.done()
        response, _ = await update
    return response, health, health_done - sent, answered_meanwhile


@pytest.mark.skipif(postgres.engine_under_test() == "postgresql", reason="fills SQLite's data file; SQLite's slow scan is the point")
def test_a_costly_update_rule_leaves_the_event_loop_free(programs: list[Program]) -> None:
    pbk = next(program for program in programs if program.name == "pbk")
    spec = {
        "name": "big",
        "type": "base",
        "fields": [{"name": "v", "type": "text"}],
        "listRule": "",
    }
    assert pbk.client.post("/api/collections", json=spec).status_code == 200
    rule = f"@collection.big.v ?~ '{NEEDLE}' || title = 'open'"
    posts = {"name": "costly", "type": "base", "updateRule": rule, "fields": [{"name": "title", "type": "text"}]}
    assert pbk.client.post("/api/collections", json=posts).status_code == 200
    fill_big(Path(pbk.server.data_dir), BIG_ROWS)
    record = pbk.client.post("/api/collections/costly/records", json={"title": "shut"}).json()
    path = f"/api/collections/costly/records/{record['id']}"
    member = {"Authorization": token(pbk, "member")}

    refused, health, health_took, answered_meanwhile = asyncio.run(
        _update_and_health(pbk.url, path, {"title": "x"}, member)
    )
    assert health.status_code == 200
    assert health_took < 1.0, f"the health check waited {health_took:.2f}s behind the update"
    assert answered_meanwhile > 0, "no health check was answered while the update ran: it held the event loop"
    assert refused.status_code == 404  # no row of big holds the needle

    last = f"big{BIG_ROWS:012d}"
    assert pbk.client.patch(f"/api/collections/big/records/{last}", json={"v": NEEDLE}).status_code == 200
    admitted, health, health_took, _ = asyncio.run(_update_and_health(pbk.url, path, {"title": "y"}, member))
    assert health.status_code == 200 and health_took < 1.0
    assert admitted.status_code == 200, admitted.text
    assert pbk.client.get(path).json()["title"] == "y"
    assert "Traceback" not in pbk.server.output()
