"""Write rules on a live single-worker ``pbk serve`` and, where PocketBase 0.40.6 is the
reference, the same requests on the real binary: rules that name the auth collection refuse
whom they name, a create cannot relate to its own new id, and a costly update rule runs off
the event loop (a health check answers while it runs)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from pbk_sdk.testing import pocketbase_and_pbk
from pbk_sdk.testing.programs import Program

pytestmark = pytest.mark.slow

PLUGINS = ["records", "auth"]
BANNED_RULE = (
    "@request.auth.collectionName = 'members' && @request.auth.collectionId != '' && @request.auth.role != 'banned'"
)


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
