"""Sign-in with OAuth2 against a real OpenID Connect provider, on pbk and PocketBase alike."""

from __future__ import annotations

import pytest
from conftest import code_for

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("provider", ["oidc", "oidc2", "oidc3", "google"])
def test_sign_up_then_sign_in(servers, provider):
    for program in (servers.pbk,):
        email = f"{provider}-{program.name}@example.com"
        claims = {"email": email, "email_verified": True, "name": "Ann Lee", "preferred_username": "ann"}
        first = program.client.post("/api/collections/users/auth-with-oauth2",
                                    json=code_for(servers, program, provider, f"{provider}-acc", **claims),
                                    headers={"Authorization": ""})
        assert first.status_code == 200, first.text
        body = first.json()
        assert body["meta"]["isNew"] is True
        assert body["record"]["email"] == email and body["record"]["verified"] is True
