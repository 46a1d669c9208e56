"""Records answers that must be PocketBase 0.40.6's, found by trying pbk as an attacker and as
a new user would (issue 13): each request goes to the real binary and to pbk, and the answers
are compared whole (status, message, data), never pbk against itself.

The two servers are started once for the module; every test makes collections of its own
(names carry the test's own prefix), so the tests do not depend on each other's data.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from pbk_sdk.testing import (
    pocketbase_superuser,
    postgres,
    start_live_server,
    start_pocketbase,
    superuser_token,
)

pytestmark = pytest.mark.slow

SUPERUSER = ("root@example.com", "su-password-123")
USER_PASSWORD = "user-password-1"
#: Seconds of backtracking for Python's ``re`` on ``SLOW_VALUE``: a caller the create rule
#: refuses must never get that far.
BACKTRACKING_PATTERN = r"^([a-zA-Z0-9]+\.?)+$"
SLOW_VALUE = "a" * 28 + "!"


class Api:
    """A tiny JSON client for one server: ``call`` returns (status, json)."""

    def __init__(self, url: str) -> None:
        self.client = httpx.Client(base_url=url, timeout=15.0)
        self.superuser = superuser_token(url, *SUPERUSER)

    def call(self, method: str, path: str, body: Any = None, *, token: str | None = "superuser") -> tuple[int, Any]:
        headers = {}
        if token == "superuser":
            headers["Authorization"] = self.superuser
        elif token:
            headers["Authorization"] = token
        response = self.client.request(method, path, json=body, headers=headers)
        return response.status_code, (response.json() if response.content else None)

    def ok(self, method: str, path: str, body: Any = None, *, token: str | None = "superuser") -> Any:
        status, data = self.call(method, path, body, token=token)
        assert 200 <= status < 300, f"{method} {path} {body!r} -> {status} {data}"
        return data

    def user_token(self, email: str) -> str:
        """Create a ``users`` record for ``email`` and sign it in."""
        self.ok("POST", "/api/collections/users/records",
                {"email": email, "password": USER_PASSWORD, "passwordConfirm": USER_PASSWORD})
        signed_in = self.ok("POST", "/api/collections/users/auth-with-password",
                            {"identity": email, "password": USER_PASSWORD}, token=None)
        return str(signed_in["token"])


@pytest.fixture(scope="module")
def both(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Api, Api]]:
    """(PocketBase, pbk), each with the same superuser, batch requests enabled."""
    root = tmp_path_factory.mktemp("robustness")
    pocketbase_superuser(root / "pb_real", *SUPERUSER)
    done = subprocess.run(
        [sys.executable, "-m", "pbk", "--dir", str(root / "pb_data"), "superuser", "upsert", *SUPERUSER],
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    real = start_pocketbase(root / "pb_real")
    ours = start_live_server(Path(root / "pb_data"))
    try:
        apis = (Api(real.url), Api(ours.url))
        for api in apis:
            api.ok("PATCH", "/api/settings", {"batch": {"enabled": True, "maxRequests": 10}})
        yield apis
    finally:
        ours.stop()
        real.stop()


def same(both: tuple[Api, Api], method: str, path: str, body: Any = None, *, token: str | tuple[str, str] | None = "superuser") -> tuple[int, Any]:
    """Send the request to both servers (``token``: one for both, or one per server) and assert
    the answers are equal; returns PocketBase's."""
    tokens = token if isinstance(token, tuple) else (token, token)
    answers = [api.call(method, path, body, token=t) for api, t in zip(both, tokens, strict=True)]
    assert answers[1] == answers[0], f"{method} {path} {body!r}\nPocketBase: {answers[0]}\npbk:        {answers[1]}"
    return answers[0]


def on_both(both: tuple[Api, Api], method: str, path: str, body: Any = None) -> list[Any]:
    """The same successful superuser request on both servers; their answers."""
    return [api.ok(method, path, body) for api in both]


# -- names ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["évil", "names\n", "a b", "names_via_x", "n" * 256, "", "users", "_migrations", "_params"],
)
def test_invalid_collection_names_are_refused_as_pocketbase_does(both: tuple[Api, Api], name: str) -> None:
    status, answer = same(both, "POST", "/api/collections", {"name": name, "type": "base"})
    assert status == 400 and "name" in answer["data"]


def test_a_collection_name_may_start_with_an_underscore(both: tuple[Api, Api]) -> None:
    for api in both:
        created = api.ok("POST", "/api/collections", {"name": "_names_private", "type": "base"})
        assert created["name"] == "_names_private"


def test_a_collection_name_may_not_be_another_collections_id(both: tuple[Api, Api]) -> None:
    for api in both:
        api.ok("POST", "/api/collections", {"name": "names_taken_id", "type": "base", "id": "names_taken_id1"})
    same(both, "POST", "/api/collections", {"name": "names_taken_id1", "type": "base"})


@pytest.mark.parametrize("name", ["évil", "field\n", "f" * 101, "a_via_b", "expand", "null", ""])
def test_invalid_field_names_are_refused_as_pocketbase_does(both: tuple[Api, Api], name: str) -> None:
    """PocketBase numbers the fields after the id field it adds, so the id is posted too."""
    payload = {"name": "names_fields", "type": "base", "fields": [
        {"name": "id", "type": "text", "primaryKey": True, "system": True, "required": True,
         "pattern": "^[a-z0-9]+$", "autogeneratePattern": "[a-z0-9]{15}", "min": 15, "max": 15},
        {"name": name, "type": "text"},
    ]}
    status, answer = same(both, "POST", "/api/collections", payload)
    assert status == 400 and answer["data"]["fields"]["1"]["name"]["code"]


# -- the create rule comes first -----------------------------------------------------------------


def _create_rule_schema(both: tuple[Api, Api]) -> list[str]:
    """``crr_secrets`` (superusers only) with one record per server, and ``crr_notes`` whose
    create rule admits only the title "allowed"; returns the secret's id on each server."""
    secret_ids = []
    for api in both:
        secrets = api.ok("POST", "/api/collections", {
            "name": "crr_secrets", "type": "base", "fields": [{"name": "label", "type": "text"}],
        })
        secret_ids.append(api.ok("POST", "/api/collections/crr_secrets/records", {"label": "s"})["id"])
        api.ok("POST", "/api/collections", {
            "name": "crr_notes", "type": "base", "createRule": 'title = "allowed"',
            "fields": [
                {"name": "title", "type": "text"},
                {"name": "code", "type": "text", "pattern": BACKTRACKING_PATTERN},
                {"name": "secret", "type": "relation", "collectionId": secrets["id"], "maxSelect": 1},
            ],
        })
    return secret_ids


def test_a_caller_the_create_rule_refuses_learns_nothing_from_validation(both: tuple[Api, Api]) -> None:
    secret_ids = _create_rule_schema(both)
    path = "/api/collections/crr_notes/records"
    refused = [
        [{"title": "no", "secret": secret_id} for secret_id in secret_ids],
        [{"title": "no", "secret": "missing00000000"}] * 2,
        [{"title": "no", "code": SLOW_VALUE}] * 2,
        [{"title": "no", "id": "short"}] * 2,
    ]
    for bodies in refused:
        answers = [api.call("POST", path, body, token=None) for api, body in zip(both, bodies, strict=True)]
        assert answers[1] == answers[0]
        assert answers[0] == (400, {"data": {}, "message": "Failed to create record.", "status": 400})
    started = time.monotonic()
    assert both[1].call("POST", path, {"title": "no", "code": SLOW_VALUE}, token=None)[0] == 400
    assert time.monotonic() - started < 1.0
    # Admitted by the rule, the same mistakes get their field errors.
    status, answer = same(both, "POST", path, {"title": "allowed", "secret": "missing00000000", "code": "-"}, token=None)
    assert status == 400 and set(answer["data"]) == {"code", "secret"}


def test_a_taken_id_is_refused_to_a_caller_the_rule_refuses_without_saying_so(both: tuple[Api, Api]) -> None:
    for api in both:
        api.ok("POST", "/api/collections", {
            "name": "crr_taken", "type": "base", "createRule": 'title = "allowed"',
            "fields": [{"name": "title", "type": "text"}],
        })
        api.ok("POST", "/api/collections/crr_taken/records", {"id": "takentaken12345", "title": "allowed"})
    status, answer = same(both, "POST", "/api/collections/crr_taken/records",
                          {"id": "takentaken12345", "title": "no"}, token=None)
    assert status == 400 and answer["data"] == {}


# -- managers may set verified on create ----------------------------------------------------------


def test_a_manager_may_create_a_verified_record(both: tuple[Api, Api]) -> None:
    tokens = tuple(api.user_token("manager@example.com") for api in both)
    for api in both:
        api.ok("POST", "/api/collections", {
            "name": "crr_members", "type": "auth", "createRule": "", "listRule": "", "viewRule": "",
            "manageRule": "@request.auth.collectionName = 'users'",
        })
    body = {"email": "member@example.com", "password": USER_PASSWORD, "passwordConfirm": USER_PASSWORD,
            "verified": True}
    answers = [api.call("POST", "/api/collections/crr_members/records", body, token=token)
               for api, token in zip(both, tokens, strict=True)]
    assert [status for status, _ in answers] == [200, 200]
    assert [record["verified"] for _, record in answers] == [True, True]
    # Not a manager: refused, with the same field error.
    body = {**body, "email": "guest@example.com"}
    status, answer = same(both, "POST", "/api/collections/crr_members/records", body, token=None)
    assert status == 400 and set(answer["data"]) == {"verified"}


# -- batch sub-requests ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def batch_collection(both: tuple[Api, Api]) -> str:
    for api in both:
        api.ok("POST", "/api/collections", {
            "name": "batch_notes", "type": "base", "createRule": "", "fields": [{"name": "title", "type": "text"}],
        })
    return "/api/collections/batch_notes/records"


@pytest.mark.parametrize("request_", [
    {"method": "post", "url": "{path}"},
    {"method": "FOO", "url": "{path}"},
    {"method": "", "url": "{path}"},
    {"method": "POST", "url": ""},
    {"method": "POST"},
    {"method": "POST", "url": "/x" + "a" * 2000},
    {"method": "POST", "url": "http://evil.example.com{path}"},
    {"method": "POST", "url": "//evil.example.com{path}"},
    {"method": "GET", "url": "{path}"},
    {"method": "POST", "url": "{path}/../other"},
    {"method": "POST", "url": "/api/collections/batch_missing/records"},
])
def test_batch_sub_requests_pocketbase_refuses_are_refused(
    both: tuple[Api, Api], batch_collection: str, request_: dict[str, str]
) -> None:
    sub = {key: value.format(path=batch_collection) for key, value in request_.items()}
    requests = [{"method": "POST", "url": batch_collection, "body": {"title": "first"}}, {**sub, "body": {"title": "x"}}]
    status, _ = same(both, "POST", "/api/batch", {"requests": requests})
    assert status >= 400
    status, answer = same(both, "GET", f"{batch_collection}?filter=title='x'||title='first'")
    assert answer["totalItems"] == 0, "nothing of a refused batch is written"


def test_a_batch_sub_request_keeps_its_query(both: tuple[Api, Api], batch_collection: str) -> None:
    requests = [{"method": "POST", "url": f"{batch_collection}?fields=title", "body": {"title": "kept"}}]
    assert same(both, "POST", "/api/batch", {"requests": requests}) == (
        200, [{"body": {"title": "kept"}, "status": 200}]
    )


# -- wire differences ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def wire_ids(both: tuple[Api, Api]) -> list[dict[str, str]]:
    """``wire_secrets`` (superusers only) and ``wire_posts`` (public) relating to it, with a
    post that points at a secret and one that points nowhere; their ids per server."""
    ids = []
    for api in both:
        secrets = api.ok("POST", "/api/collections", {
            "name": "wire_secrets", "type": "base", "fields": [{"name": "label", "type": "text"}],
        })
        api.ok("POST", "/api/collections", {
            "name": "wire_posts", "type": "base", "listRule": "", "viewRule": "", "updateRule": "",
            "fields": [
                {"name": "title", "type": "text"},
                {"name": "secret", "type": "relation", "collectionId": secrets["id"], "maxSelect": 1},
                {"name": "state", "type": "select", "values": ["draft", "live", "gone"], "maxSelect": 1},
            ],
        })
        secret = api.ok("POST", "/api/collections/wire_secrets/records", {"id": "wiresecret00001", "label": "s"})["id"]
        linked = api.ok("POST", "/api/collections/wire_posts/records",
                        {"id": "wirelinked00001", "title": "linked", "secret": secret, "state": "draft"})["id"]
        alone = api.ok("POST", "/api/collections/wire_posts/records",
                       {"id": "wirealone000001", "title": "alone", "state": "draft"})["id"]
        ids.append({"linked": linked, "alone": alone})
    return ids


@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/api/collections/wire_missing/records"),
    ("GET", "/api/collections/wire_missing/records/abc"),
    ("POST", "/api/collections/wire_missing/records"),
    ("PATCH", "/api/collections/wire_missing/records/abc"),
    ("DELETE", "/api/collections/wire_missing/records/abc"),
    ("GET", "/api/collections/wire_missing"),
])
def test_an_unknown_collection_is_named_as_pocketbase_does(both: tuple[Api, Api], method: str, path: str) -> None:
    body = {} if method in ("POST", "PATCH") else None
    assert same(both, method, path, body)[0] == 404


@pytest.mark.parametrize("token", [None, "superuser"])
def test_an_expand_into_a_collection_the_caller_may_not_view_leaves_no_expand_key(
    both: tuple[Api, Api], wire_ids: list[dict[str, str]], token: str | None
) -> None:
    """Superusers get ``expand: {}`` for a relation that points nowhere; others get no
    ``expand`` at all for one into a superusers-only collection."""
    status, answer = same(both, "GET", "/api/collections/wire_posts/records?expand=secret&sort=title", token=token)
    assert status == 200
    assert ["expand" in item for item in answer["items"]] == ([True, True] if token else [False, False])


def test_adding_to_a_single_select_replaces_its_value(both: tuple[Api, Api], wire_ids: list[dict[str, str]]) -> None:
    path = "/api/collections/wire_posts/records/wirealone000001"
    for body, expected in [({"state+": "live"}, "live"), ({"state+": ["draft", "gone"]}, "gone"),
                           ({"+state": "draft"}, "gone"), ({"state-": "draft"}, "gone")]:
        status, record = same(both, "PATCH", path, body, token=None)
        assert (status, record["state"]) == (200, expected)


@pytest.mark.parametrize("filter_", [
    "geoDistance(0, 0, 1, 1,) > 0",
    "geoDistance(0, 0, // from\n 1, 1 // to\n) > 0",
])
def test_function_arguments_take_a_trailing_comma_and_comments(
    both: tuple[Api, Api], wire_ids: list[dict[str, str]], filter_: str
) -> None:
    query = urlencode({"filter": filter_, "fields": "id", "sort": "id"})
    status, answer = same(both, "GET", f"/api/collections/wire_posts/records?{query}", token=None)
    assert (status, answer["totalItems"]) == (200, 2)


INDEXES = [
    "CREATE UNIQUE INDEX idx_wire_title ON wire_ix (title)",
    "create index `idx_wire_n` on `wire_ix` (`n` DESC, title) where n > 0",
    'CREATE INDEX IF NOT EXISTS "idx_wire_t2" ON "wire_ix" (\n title\n)',
    "CREATE INDEX idx_wire_lower ON [wire_ix] (n COLLATE NOCASE, lower(title) ASC)",
]


def test_indexes_kept_through_a_rename_are_rewritten_as_pocketbase_does(both: tuple[Api, Api]) -> None:
    created = on_both(both, "POST", "/api/collections", {
        "name": "wire_ix", "type": "base", "indexes": INDEXES,
        "fields": [{"name": "title", "type": "text"}, {"name": "n", "type": "number"}],
    })
    assert created[0]["indexes"] == created[1]["indexes"] == INDEXES
    renamed = on_both(both, "PATCH", "/api/collections/wire_ix", {"name": "wire_ix2"})
    assert renamed[1]["indexes"] == renamed[0]["indexes"]
    assert renamed[0]["indexes"] != INDEXES
    assert [api.ok("GET", "/api/collections/wire_ix2")["indexes"] for api in both][1] == renamed[0]["indexes"]


def test_an_index_naming_its_table_in_another_case_is_rewritten(both: tuple[Api, Api]) -> None:
    created = on_both(both, "POST", "/api/collections", {
        "name": "wire_case", "type": "base", "fields": [{"name": "title", "type": "text"}],
        "indexes": ["CREATE INDEX idx_wire_case ON WIRE_CASE (title)"],
    })
    assert created[1]["indexes"] == created[0]["indexes"] == ["CREATE INDEX `idx_wire_case` ON `wire_case` (`title`)"]


# -- view queries ----------------------------------------------------------------------------------


@pytest.mark.parametrize("query", [
    "SELECT id FROM users UNION SELECT name FROM sqlite_master",
    "SELECT id, email FROM users --",
    "SELECT id, email FROM users -- a comment",
    "SELECT id, email FROM users; DROP TABLE users",
    "SELECT id, a b c d FROM users",
    "SELECT id FROM no_such_table",
    "SELECT sql AS id FROM sqlite_master",
    "SELECT 'same' AS id FROM wire_posts",
])
def test_view_queries_pocketbase_refuses_are_refused_alike(
    both: tuple[Api, Api], wire_ids: list[dict[str, str]], query: str
) -> None:
    body = {"name": "view_refused", "type": "view", "viewQuery": query}
    if postgres.engine_under_test() == "postgresql":  # refused alike, in PostgreSQL's words
        answers = [api.call("POST", "/api/collections", body) for api in both]
        codes = [(status, answer["data"].get("viewQuery", {}).get("code")) for status, answer in answers]
        assert codes[1] == codes[0], answers
        status, answer = answers[0]
    else:
        status, answer = same(both, "POST", "/api/collections", body)
    assert status == 400 and "viewQuery" in answer["data"]


@pytest.mark.parametrize("query", [
    "SELECT id, email FROM users /* a comment */",
    "SELECT id, email FROM users;",
    pytest.param("select id from (select id from users)", marks=pytest.mark.skipif(
        postgres.engine_under_test() == "postgresql", reason="PostgreSQL 15 wants a subquery in FROM named")),
    "WITH x AS (SELECT id FROM users) SELECT id FROM x",
    "SELECT u.id, count(p.id) AS posts FROM users u LEFT JOIN wire_posts p ON p.title = u.name GROUP BY u.id",
])
def test_view_queries_pocketbase_accepts_are_accepted_with_the_same_fields(
    both: tuple[Api, Api], wire_ids: list[dict[str, str]], query: str
) -> None:
    views = [api.call("POST", "/api/collections", {"name": "view_ok", "type": "view", "viewQuery": query})
             for api in both]
    try:
        assert [status for status, _ in views] == [200, 200], views
        fields = [[(f["name"], f["type"]) for f in view["fields"]] for _, view in views]
        assert fields[1] == fields[0]
    finally:
        for api in both:
            api.call("DELETE", "/api/collections/view_ok")
