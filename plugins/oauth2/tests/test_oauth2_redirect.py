"""Where ``/api/oauth2-redirect`` leaves the browser: the dashboard's success or failure page
when a dashboard plugin says where it is (``DASHBOARD_PATH``), else PocketBase's plain pages
(as PocketBase built without its dashboard answers)."""

from __future__ import annotations

import pytest
from oauth2_servers import FAILURE_TEXT, SUCCESS_TEXT
from pbk_realtime.hub import Topic
from pbk_realtime.service import REALTIME
from pbk_sdk.interfaces import DASHBOARD_PATH


@pytest.fixture
def pbk_plugins() -> list[str]:
    return ["records", "auth", "realtime", "oauth2"]


def waiting_client(app) -> str:
    """A realtime client subscribed to ``@oauth2`` (no recorded address: any may redirect)."""
    client = app.state[REALTIME].hub.connect("")
    client.topics = {"@oauth2": Topic.parse("@oauth2")}
    return client.id


async def test_without_a_dashboard_the_plain_pages_are_answered(pbk_app, pbk_client):
    done = await pbk_client.get(f"/api/oauth2-redirect?state={waiting_client(pbk_app)}&code=c")
    assert (done.status_code, done.text) == (200, SUCCESS_TEXT)
    assert done.headers["content-type"].startswith("text/html")
    for failed in (await pbk_client.get("/api/oauth2-redirect?state=nobody&code=c"),
                   await pbk_client.post("/api/oauth2-redirect", json={})):
        assert (failed.status_code, failed.text) == (200, FAILURE_TEXT)
        assert failed.headers["content-type"].startswith("text/plain")


@pytest.mark.parametrize(("path", "folder"), [("/_/", "../_/"), ("/admin", "../admin/"), ("/", "../")],
                         ids=["pocketbase", "other", "root"])
async def test_with_a_dashboard_the_browser_goes_to_its_pages(pbk_app, pbk_client, path, folder):
    pbk_app.state[DASHBOARD_PATH] = path
    done = await pbk_client.post("/api/oauth2-redirect",
                                 json={"state": waiting_client(pbk_app), "code": "c"})
    assert (done.status_code, done.headers["location"]) == (303, f"{folder}#/auth/oauth2-redirect-success")
    failed = await pbk_client.get("/api/oauth2-redirect?state=nobody&code=c")
    assert (failed.status_code, failed.headers["location"]) == (307, f"{folder}#/auth/oauth2-redirect-failure")
