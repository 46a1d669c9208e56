"""With the dashboard loaded, the oauth2 redirect sends the provider's popup to its pages."""

from __future__ import annotations

import pytest


@pytest.fixture
def pbk_plugins() -> list[str]:
    return ["records", "auth", "realtime", "oauth2", "admin"]


async def test_a_failed_redirect_opens_the_dashboards_failure_page(pbk_client):
    failed = await pbk_client.get("/api/oauth2-redirect?state=nope&code=x")
    assert failed.status_code == 307
    assert failed.headers["location"] == "../_/#/auth/oauth2-redirect-failure"
