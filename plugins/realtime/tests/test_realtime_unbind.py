"""A realtime client bound to an auth record becomes a guest when that record's tokenKey or its
collection's token secret changes, as on delete (PocketBase does the same)."""

from __future__ import annotations

import secrets
from typing import Any

import httpx
import pytest
from test_realtime import connect, server, subscribe

__all__ = ["server"]  # the live server fixture, shared with test_realtime.py

pytestmark = pytest.mark.slow


def bound_client(server: Any, name: str) -> tuple[Any, str, dict[str, Any]]:
    """A stream subscribed to ``name``/* as a new user of a new auth collection ``name``_users
    whose records are listed only to a signed-in user."""
    users = httpx.post(f"{server.url}/api/collections", headers=server.su,
                       json={"name": f"{name}_users", "type": "auth"})
    assert users.status_code == 200, users.text
    created = httpx.post(f"{server.url}/api/collections", headers=server.su, json={
        "name": name, "type": "base", "listRule": "@request.auth.id != ''",
        "fields": [{"name": "text", "type": "text"}]})
    assert created.status_code == 200, created.text
    user = httpx.post(f"{server.url}/api/collections/{name}_users/records", headers=server.su, json={
        "email": "bound@example.com", "password": "bound-password", "passwordConfirm": "bound-password"}).json()
    token = httpx.post(f"{server.url}/api/collections/{name}_users/auth-with-password",
                       json={"identity": "bound@example.com", "password": "bound-password"}).json()["token"]
    client, client_id = connect(server)
    assert subscribe(server.url, client_id, [f"{name}/*"], {"Authorization": token}).status_code == 204
    return client, client_id, user


def write(server: Any, name: str, text: str) -> dict[str, Any]:
    result = httpx.post(f"{server.url}/api/collections/{name}/records", headers=server.su, json={"text": text})
    assert result.status_code == 200, result.text
    return result.json()


@pytest.mark.parametrize("change", ["tokenKey", "secret"])
def test_a_voided_token_unbinds_the_client(server: Any, change: str) -> None:
    name = f"unbind_{change.lower()}"
    client, client_id, user = bound_client(server, name)
    try:
        seen = write(server, name, "seen")
        assert client.next()[2]["record"]["id"] == seen["id"]
        if change == "tokenKey":  # a password change gives the record a new tokenKey
            changed = httpx.patch(f"{server.url}/api/collections/{name}_users/records/{user['id']}",
                                  headers=server.su, json={"password": "other-password",
                                                           "passwordConfirm": "other-password"})
        else:
            changed = httpx.patch(f"{server.url}/api/collections/{name}_users", headers=server.su,
                                  json={"authToken": {"secret": secrets.token_hex(25)}})
        assert changed.status_code == 200, changed.text
        write(server, name, "hidden")
        client.nothing()
        # A guest now: the old token, void, cannot bind it again; a new subscription as guest can.
        assert subscribe(server.url, client_id, [f"{name}/*"]).status_code == 204
    finally:
        client.close()


def test_an_unrelated_update_keeps_the_client_bound(server: Any) -> None:
    name = "unbind_kept"
    client, _, user = bound_client(server, name)
    try:
        renamed = httpx.patch(f"{server.url}/api/collections/{name}_users/records/{user['id']}",
                              headers=server.su, json={"emailVisibility": True})
        assert renamed.status_code == 200, renamed.text
        touched = httpx.patch(f"{server.url}/api/collections/{name}_users", headers=server.su,
                              json={"authToken": {"duration": 3600}})
        assert touched.status_code == 200, touched.text
        seen = write(server, name, "still seen")
        assert client.next()[2]["record"]["id"] == seen["id"]
    finally:
        client.close()
