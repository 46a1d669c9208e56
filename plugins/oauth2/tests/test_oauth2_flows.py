"""Sign-in with OAuth2 against a real OpenID Connect provider, on pbk and on PocketBase 0.40.6
side by side: the same requests, the same outcomes."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from oauth2_servers import Servers, code_for

pytestmark = pytest.mark.slow

USERS = "/api/collections/users"
META_KEYS = {"id", "name", "username", "email", "avatarURL", "avatarUrl", "accessToken",
             "refreshToken", "expiry", "rawUser", "isNew"}


def sign_in(program, body: dict[str, Any], token: str = "") -> httpx.Response:
    return program.client.post(f"{USERS}/auth-with-oauth2", json=body,
                               headers={"Authorization": token})


def both(servers: Servers):
    return (servers.pocketbase, servers.pbk)


def links(program, record_id: str) -> list[dict[str, Any]]:
    return program.client.get("/api/collections/_externalAuths/records",
                              params={"filter": f'recordRef = "{record_id}"'}).json()["items"]


@pytest.mark.parametrize("provider", ["oidc", "oidc2", "oidc3", "google"])
def test_sign_up_then_sign_in_again(servers, provider):
    for program in both(servers):
        account = f"{provider}-{program.name}"
        claims = {"email": f"{account}@example.com", "email_verified": True, "name": "Ann Lee",
                  "preferred_username": f"ann-{account}"}
        first = sign_in(program, code_for(servers, program, provider, account, **claims))
        assert first.status_code == 200, (program.name, first.text)
        body = first.json()
        assert set(body["meta"]) == META_KEYS
        assert body["meta"]["isNew"] is True and body["meta"]["rawUser"]["sub"] == account
        assert body["meta"]["email"] == claims["email"] and body["meta"]["accessToken"]
        assert body["record"]["email"] == claims["email"] and body["record"]["verified"] is True
        assert body["record"]["name"] == "Ann Lee"  # users maps the provider's name by default
        again = sign_in(program, code_for(servers, program, provider, account, **claims))
        assert again.status_code == 200 and again.json()["meta"]["isNew"] is False
        assert again.json()["record"]["id"] == body["record"]["id"]
        [link] = links(program, body["record"]["id"])
        assert (link["provider"], link["providerId"]) == (provider, account)


def test_auth_methods_lists_providers_as_pocketbase(servers):
    answers = [p.client.get(f"{USERS}/auth-methods").json() for p in both(servers)]
    for answer in answers:
        by_name = {p["name"]: p for p in answer["oauth2"]["providers"]}
        assert by_name["oidc"]["authURL"].endswith("&redirect_uri=")
        assert by_name["oidc"]["codeChallengeMethod"] == "S256" and len(by_name["oidc"]["codeVerifier"]) == 43
        assert by_name["oidc3"]["codeVerifier"] == by_name["oidc3"]["codeChallenge"] == ""
        assert len(by_name["oidc"]["state"]) == 30
        assert all(p["logo"] == "" for p in answer["authProviders"])

    def shape(answer: dict[str, Any]) -> list[Any]:
        """Everything but the random values and the logos (pbk draws its own)."""
        listed = [p for p in answer["oauth2"]["providers"] if p["name"] != "acme"]
        return [(p["name"], p["displayName"], p["codeChallengeMethod"],
                 p["authURL"].replace(p["state"], "S").replace(p["codeChallenge"] or "-", "C"))
                for p in listed]

    assert shape(answers[1]) == shape(answers[0])


def test_a_third_party_provider_appears_and_signs_in(servers):
    methods = servers.pbk.client.get(f"{USERS}/auth-methods").json()
    acme = next(p for p in methods["oauth2"]["providers"] if p["name"] == "acme")
    assert acme["displayName"] == "Acme ID" and acme["logo"].startswith("<svg")
    catalogue = servers.pbk.client.get("/api/collections/meta/oauth2-providers").json()
    assert {"name": "acme", "displayName": "Acme ID", "logo": acme["logo"]} in catalogue
    claims = {"email": "acme@example.com", "email_verified": "true", "name": "Wile E."}
    answer = sign_in(servers.pbk, code_for(servers, servers.pbk, "acme", "wile", **claims))
    assert answer.status_code == 200, answer.text
    assert answer.json()["meta"]["id"] == "acme:wile"
    assert answer.json()["record"]["email"] == "acme@example.com"


def test_unverified_provider_email_is_not_trusted(servers):
    outcomes = []
    for program in both(servers):
        account = f"unverified-{program.name}"
        claims = {"email": f"{account}@example.com", "email_verified": False}
        refused = sign_in(program, code_for(servers, program, "oidc", account, **claims))
        body = {**code_for(servers, program, "oidc", account, **claims),
                "createData": {"email": f"{account}@example.com", "emailVisibility": True}}
        created = sign_in(program, body)
        assert created.status_code == 200, created.text
        record = created.json()["record"]
        outcomes.append((refused.status_code, refused.json(), created.json()["meta"]["email"],
                         record["verified"]))
    assert outcomes[1] == outcomes[0]
    assert outcomes[0][0] == 400 and outcomes[0][2:] == ("", False)


def create_user(program, email: str, verified: bool) -> str:
    answer = program.client.post(f"{USERS}/records", json={
        "email": email, "password": "old-password", "passwordConfirm": "old-password",
        "verified": verified})
    assert answer.status_code == 200, answer.text
    return str(answer.json()["id"])


def password_works(program, email: str) -> bool:
    answer = program.client.post(f"{USERS}/auth-with-password",
                                 json={"identity": email, "password": "old-password"})
    return answer.status_code == 200


@pytest.mark.parametrize("verified", [True, False], ids=["verified", "unverified"])
def test_existing_user_is_linked_by_verified_email(servers, verified):
    outcomes = []
    for program in both(servers):
        email = f"linked-{verified}-{program.name}@example.com"
        user_id = create_user(program, email, verified)
        answer = sign_in(program, code_for(servers, program, "oidc", f"linked-{verified}-{program.name}",
                                           email=email, email_verified=True))
        assert answer.status_code == 200, answer.text
        assert answer.json()["record"]["id"] == user_id
        outcomes.append((answer.json()["meta"]["isNew"], answer.json()["record"]["verified"],
                         password_works(program, email)))
    assert outcomes[1] == outcomes[0]
    # An unverified account may have been made by someone else: its password stops working.
    assert outcomes[0] == (False, True, verified)


def test_a_signed_in_user_links_another_account(servers):
    for program in both(servers):
        email = f"owner-{program.name}@example.com"
        user_id = create_user(program, email, True)
        token = program.client.post(f"{USERS}/auth-with-password", json={
            "identity": email, "password": "old-password"}).json()["token"]
        body = code_for(servers, program, "google", f"other-{program.name}",
                        email=f"elsewhere-{program.name}@example.com", email_verified=True)
        answer = sign_in(program, body, token)
        assert answer.status_code == 200, answer.text
        assert answer.json()["record"]["id"] == user_id and answer.json()["meta"]["isNew"] is False
        assert [link["provider"] for link in links(program, user_id)] == ["google"]


def test_links_are_listed_and_unlinked_by_their_owner(servers):
    for program in both(servers):
        account = f"unlink-{program.name}"
        answer = sign_in(program, code_for(servers, program, "oidc", account,
                                           email=f"{account}@example.com", email_verified=True))
        token, user_id = answer.json()["token"], answer.json()["record"]["id"]
        own = {"Authorization": token}
        listed = program.client.get("/api/collections/_externalAuths/records", headers=own).json()
        assert [item["recordRef"] for item in listed["items"]] == [user_id]
        deleted = program.client.delete(
            f"/api/collections/_externalAuths/records/{listed['items'][0]['id']}", headers=own)
        assert deleted.status_code == 204
        assert links(program, user_id) == []


def test_deleting_a_user_drops_its_links(servers):
    for program in both(servers):
        account = f"deleted-{program.name}"
        answer = sign_in(program, code_for(servers, program, "oidc", account,
                                           email=f"{account}@example.com", email_verified=True))
        user_id = answer.json()["record"]["id"]
        assert program.client.delete(f"{USERS}/records/{user_id}").status_code == 204
        assert links(program, user_id) == []


def test_the_sign_in_event_may_change_the_sign_up(servers):
    body = {**code_for(servers, servers.pbk, "oidc3", "hooked", email="hooked@example.com",
                       email_verified=True), "createData": {"name": "rename-me"}}
    answer = sign_in(servers.pbk, body)
    assert answer.status_code == 200, answer.text
    assert answer.json()["record"]["name"] == "signed up with oidc3"


def test_avatar_from_a_loopback_address_is_not_downloaded(servers):
    for program in both(servers):
        picture = f"{program.url}/api/health"
        answer = sign_in(program, code_for(servers, program, "oidc", f"avatar-{program.name}",
                                           email=f"avatar-{program.name}@example.com",
                                           email_verified=True, picture=picture))
        assert answer.status_code == 200, answer.text
        assert answer.json()["meta"]["avatarURL"] == picture
        assert answer.json()["record"]["avatar"] == ""



def test_becoming_verified_drops_links_made_before(servers):
    """A link made while the address was unproven goes when it is proven, and the tokens
    issued until then stop working."""
    outcomes = []
    for program in both(servers):
        account = f"upgrade-{program.name}"
        body = {**code_for(servers, program, "oidc", account, email="", email_verified=False),
                "createData": {"email": f"{account}@example.com"}}
        signed_in = sign_in(program, body)
        assert signed_in.status_code == 200, signed_in.text
        user_id, token = signed_in.json()["record"]["id"], signed_in.json()["token"]
        before = len(links(program, user_id))
        program.client.patch(f"{USERS}/records/{user_id}", json={"verified": True})
        refreshed = program.client.post(f"{USERS}/auth-refresh", headers={"Authorization": token})
        outcomes.append((before, len(links(program, user_id)), refreshed.status_code))
    assert outcomes[1] == outcomes[0] == (1, 0, 401)


def test_oauth2_is_one_of_two_mfa_factors(servers):
    for program in both(servers):
        status, answer = program.call("POST", "/api/collections", {
            "name": "staff", "type": "auth", "mfa": {"enabled": True},
            "oauth2": {"enabled": True, "providers": servers.providers()[:1]}})
        assert status == 200, answer
        email = f"staff-{program.name}@example.com"
        assert program.client.post("/api/collections/staff/records", json={
            "email": email, "password": "old-password", "passwordConfirm": "old-password",
            "verified": True}).status_code == 200
        first = program.client.post("/api/collections/staff/auth-with-oauth2", headers={"Authorization": ""},
                                    json=code_for(servers, program, "oidc", f"staff-{program.name}",
                                                  email=email, email_verified=True))
        assert first.status_code == 401 and set(first.json()) == {"mfaId"}, first.text
        second = program.client.post("/api/collections/staff/auth-with-password", headers={"Authorization": ""},
                                     json={"identity": email, "password": "old-password",
                                           "mfaId": first.json()["mfaId"]})
        assert second.status_code == 200 and second.json()["record"]["email"] == email


def test_a_mapped_username_the_field_refuses_is_left_out(servers):
    """Taken (the field has a unique index) or not the field's pattern: the sign-up goes on
    without it, as PocketBase checks a username before mapping it."""
    outcomes = []
    for program in both(servers):
        status, answer = program.call("POST", "/api/collections", {
            "name": "people", "type": "auth", "createRule": "",
            "fields": [{"name": "handle", "type": "text", "pattern": "^[a-z]+$"}],
            "indexes": ["CREATE UNIQUE INDEX idx_people_handle ON people (handle) WHERE handle != ''"],
            "oauth2": {"enabled": True, "mappedFields": {"username": "handle"},
                       "providers": servers.providers()[:1]}})
        assert status == 200, answer
        handles = []
        for account, username in (("first", "ann"), ("second", "ann"), ("third", "Not Valid!")):
            body = code_for(servers, program, "oidc", f"people-{account}-{program.name}",
                            email=f"people-{account}-{program.name}@example.com", email_verified=True,
                            preferred_username=username)
            signed = program.client.post("/api/collections/people/auth-with-oauth2", json=body,
                                         headers={"Authorization": ""})
            assert signed.status_code == 200, signed.text
            handles.append(signed.json()["record"]["handle"])
        outcomes.append(handles)
    assert outcomes[1] == outcomes[0] == ["ann", "", ""]
