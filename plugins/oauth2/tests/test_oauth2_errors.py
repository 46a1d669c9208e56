"""Every way an OAuth2 sign-in fails, sent to pbk and to PocketBase 0.40.6: the same status and
the same answer (or, for the redirect, the same page), never a 500."""

from __future__ import annotations

from typing import Any

import pytest
from oauth2_servers import CLIENTS, Servers, code_for

pytestmark = pytest.mark.slow

#: A second auth collection whose providers are set up to fail after the code exchange, and
#: whose createRule lets nobody sign up; a third with OAuth2 off.
MEMBERS, CLOSED = "members", "closed"


@pytest.fixture(scope="module")
def collections(servers: Servers) -> Servers:
    url = servers.idp.url
    failing = [
        {"name": "oidc2", "clientId": CLIENTS["oidc2"][0], "clientSecret": CLIENTS["oidc2"][1],
         "authURL": f"{url}/auth", "tokenURL": f"{url}/token",
         "extra": {"jwksURL": f"{url}/jwks", "issuers": ["https://issuer.elsewhere.example"]}},
        {"name": "oidc", "clientId": CLIENTS["oidc"][0], "clientSecret": CLIENTS["oidc"][1],
         "authURL": f"{url}/auth", "tokenURL": f"{url}/token", "userInfoURL": f"{url}/no-such-api"},
        {"name": "oidc3", "clientId": CLIENTS["oidc3"][0], "clientSecret": CLIENTS["oidc3"][1],
         "authURL": f"{url}/auth", "tokenURL": f"{url}/token", "userInfoURL": f"{url}/me",
         "pkce": False},
    ]
    for program in (servers.pocketbase, servers.pbk):
        for name, oauth2 in ((MEMBERS, {"enabled": True, "providers": failing}),
                             (CLOSED, {"enabled": False})):
            status, answer = program.call("POST", "/api/collections", {
                "name": name, "type": "auth", "createRule": None, "oauth2": oauth2})
            assert status == 200, answer
    return servers


def same_answer(servers: Servers, path: str, body: Any = None, *, raw: bytes | None = None) -> tuple[int, Any]:
    """The answer both give to the same POST; fails if they differ."""
    answers = []
    for program in (servers.pocketbase, servers.pbk):
        if raw is not None:
            response = program.client.post(path, content=raw, headers={"Content-Type": "application/json"})
        else:
            response = program.client.post(path, json=body, headers={"Authorization": ""})
        answers.append((response.status_code, response.json()))
    assert answers[1] == answers[0]
    return answers[0]


SIGN_IN = "/api/collections/{}/auth-with-oauth2"
BAD_FORMS = {
    "empty": {},
    "not-configured": {"provider": "github", "code": "x"},
    "unknown": {"provider": "no-such-provider", "code": "x"},
    "long-name": {"provider": "p" * 101, "code": "x"},
    "number": {"provider": 5, "code": "x"},
    "create-data": {"provider": "oidc", "code": "x", "createData": "text"},
    "made-up-code": {"provider": "oidc", "code": "made-up", "codeVerifier": "v" * 43},
    "no-pkce-made-up": {"provider": "oidc3", "code": "made-up"},
}


@pytest.mark.parametrize("form", BAD_FORMS, ids=list(BAD_FORMS))
def test_bad_sign_in_forms(collections, form):
    status, answer = same_answer(collections, SIGN_IN.format("users"), BAD_FORMS[form])
    assert status == 400 and answer["message"]


@pytest.mark.parametrize(("collection", "status"), [(CLOSED, 403), ("_superusers", 403),
                                                    ("no-such-collection", 404), ("_mfas", 404)],
                         ids=["disabled", "superusers", "unknown", "not-auth"])
def test_collections_without_oauth2(collections, collection, status):
    assert same_answer(collections, SIGN_IN.format(collection), {"provider": "oidc", "code": "x"})[0] == status


def test_bad_json(collections):
    assert same_answer(collections, SIGN_IN.format("users"), raw=b"{not json")[0] == 400


def codes(servers: Servers, provider: str, account: str) -> list[dict[str, str]]:
    """A fresh code for each program (a code is good for one exchange)."""
    return [code_for(servers, program, provider, account, email=f"{account}@example.com",
                     email_verified=True) for program in (servers.pocketbase, servers.pbk)]


def answers_to(servers: Servers, collection: str, bodies: list[dict[str, Any]]) -> list[tuple[int, Any]]:
    """Each program's answer to its body; fails unless they are the same."""
    answers = []
    for program, body in zip((servers.pocketbase, servers.pbk), bodies, strict=True):
        response = program.client.post(SIGN_IN.format(collection), json=body, headers={"Authorization": ""})
        answers.append((response.status_code, response.json()))
    assert answers[1] == answers[0]
    return answers


def test_a_code_is_good_once(collections):
    bodies = codes(collections, "oidc", "once")
    for program, body in zip((collections.pocketbase, collections.pbk), bodies, strict=True):
        assert program.client.post(SIGN_IN.format("users"), json=body).status_code == 200
    [(status, answer), _] = answers_to(collections, "users", bodies)
    assert (status, answer["message"]) == (400, "Failed to fetch OAuth2 token.")


def test_a_wrong_code_verifier_fails_the_exchange(collections):
    bodies = [{**body, "codeVerifier": "w" * 43} for body in codes(collections, "oidc", "verifier")]
    [(status, answer), _] = answers_to(collections, "users", bodies)
    assert (status, answer["message"]) == (400, "Failed to fetch OAuth2 token.")


@pytest.mark.parametrize("provider", ["oidc2", "oidc"], ids=["wrong-issuer", "user-api-error"])
def test_provider_user_failures(collections, provider):
    [(status, answer), _] = answers_to(collections, MEMBERS, codes(collections, provider, f"fail-{provider}"))
    assert (status, answer["message"]) == (400, "Failed to fetch OAuth2 user.")


def test_sign_up_refused_by_the_create_rule(collections):
    [(status, _), _] = answers_to(collections, MEMBERS, codes(collections, "oidc3", "no-sign-up"))
    assert status == 403


REDIRECTS = {
    "no-state": ("GET", "/api/oauth2-redirect?code=abc", None),
    "unknown-state": ("GET", "/api/oauth2-redirect?state=nobody&code=abc", None),
    "denied": ("GET", "/api/oauth2-redirect?state=nobody&error=access_denied", None),
    "post-unknown": ("POST", "/api/oauth2-redirect", {"state": "nobody", "code": "abc"}),
    "post-empty": ("POST", "/api/oauth2-redirect", {}),
}


@pytest.mark.parametrize("case", REDIRECTS, ids=list(REDIRECTS))
def test_failed_redirects_go_to_the_failure_page(collections, case):
    method, path, form = REDIRECTS[case]
    seen = []
    for program in (collections.pocketbase, collections.pbk):
        response = program.client.request(method, path, data=form)
        seen.append((response.status_code, response.headers.get("location")))
    assert seen[1] == seen[0]
    assert seen[0][1] == "../_/#/auth/oauth2-redirect-failure"


OPTIONS = {
    "unknown-provider": [{"name": "nope", "clientId": "x", "clientSecret": "y"}],
    "missing-keys": [{"name": "github"}],
    "blank": [{"name": "", "clientId": ""}],
    "duplicate": [{"name": "github", "clientId": "x", "clientSecret": "y"},
                  {"name": "github", "clientId": "x", "clientSecret": "y"}],
    "bad-url": [{"name": "oidc", "clientId": "x", "clientSecret": "y", "userInfoURL": "bad url"}],
}


@pytest.mark.parametrize("case", OPTIONS, ids=list(OPTIONS))
def test_oauth2_options_are_checked_on_save(collections, case):
    answers = [program.call("PATCH", f"/api/collections/{MEMBERS}",
                            {"oauth2": {"enabled": True, "providers": OPTIONS[case]}})
               for program in (collections.pocketbase, collections.pbk)]
    assert answers[1] == answers[0] and answers[0][0] == 400


def test_saved_providers_keep_their_secret_and_hide_it(collections):
    """A save that names a provider again keeps what it leaves out (the write-only
    ``clientSecret`` among it); unknown mapped fields are cleared; a disabled ``oauth2`` is not
    checked."""
    results = []
    for program in (collections.pocketbase, collections.pbk):
        status, answer = program.call("PATCH", f"/api/collections/{CLOSED}", {"oauth2": {
            "enabled": True, "mappedFields": {"id": "email", "name": "nope"},
            "providers": [{"name": "google", "clientId": "a", "clientSecret": "s", "displayName": "G",
                           "authURL": "https://accounts.example.com/oauth/authorize"}]}})
        assert status == 200, answer
        status, answer = program.call("PATCH", f"/api/collections/{CLOSED}", {"oauth2": {
            "providers": [{"name": "google", "clientId": "b"}]}})
        assert status == 200, answer
        status, disabled = program.call("PATCH", f"/api/collections/{CLOSED}", {"oauth2": {
            "enabled": False, "providers": [{"name": "zzz"}]}})
        results.append((answer["oauth2"], disabled["oauth2"]))
    assert results[1] == results[0]
    assert results[0][0]["providers"][0]["authURL"] == "https://accounts.example.com/oauth/authorize"
    assert "clientSecret" not in results[0][0]["providers"][0]
    assert results[0][0]["mappedFields"]["id"] == "email" and results[0][0]["mappedFields"]["name"] == ""
