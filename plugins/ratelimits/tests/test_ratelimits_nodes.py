"""A rate limit holds across two ``pbk serve`` nodes sharing a PostgreSQL database: the
requests of one client count in one counter whichever node they reach."""

from __future__ import annotations

import httpx
import pytest
from pbk_sdk.testing.nodes import running_nodes

pytestmark = pytest.mark.slow
PLUGINS = ["records", "auth", "settings", "ratelimits"]
WRONG_LOGIN = {"identity": "nobody@example.com", "password": "wrong-password"}


def test_a_limit_spent_on_two_nodes_refuses_on_both(tmp_path, postgres_url):
    with running_nodes(tmp_path, postgres_url, PLUGINS) as (a, b):
        rule = {"label": "*:auth", "maxRequests": 4, "duration": 60}
        saved = httpx.patch(f"{a.url}/api/settings", headers={"Authorization": a.token},
                            json={"rateLimits": {"enabled": True, "rules": [rule]}}, timeout=30)
        assert saved.status_code == 200, saved.text
        signin = "/api/collections/users/auth-with-password"
        statuses = [httpx.post(node.url + signin, json=WRONG_LOGIN, timeout=30).status_code
                    for node in (a, b, a, b, a, b)]
    assert statuses == [400, 400, 400, 400, 429, 429]
