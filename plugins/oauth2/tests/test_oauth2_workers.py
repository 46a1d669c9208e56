"""Sign in with Apple on a pbk with two workers: the name Apple posts once to the redirect on
one worker reaches the ``auth-with-oauth2`` call that lands on the other.

Apple's token endpoint is a ``RecordedApi`` on loopback (``tokenURL``); its key set and issuer
are Apple's on the internet, so a test plugin in ``--pluginsDir`` points the provider at the
recorded API's instead; ``pbk_sdk.testing.workers``'s plugin there pins each request to a
known worker.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager

import httpx
import pytest
from oauth2_servers import start_program
from pbk_sdk.testing import Program
from pbk_sdk.testing.oauth2 import RecordedApi, sample_id_token_claims
from pbk_sdk.testing.sse import sse_events
from pbk_sdk.testing.workers import WHOAMI, write_whoami_plugin

CLIENT_ID = "apple-client"
TEST_PLUGIN = """
import os

from pbk_oauth2.providers.apple import Apple
from pbk_sdk import PluginInfo

PLUGIN = PluginInfo(name="apple_on_loopback")
# Test only: Apple's keys and issuer are on the internet; the tests' recorded API stands in.
Apple.jwks_url = os.environ["TEST_APPLE_URL"] + "/jwks"
Apple.issuer = os.environ["TEST_APPLE_URL"]
"""


@pytest.fixture(scope="module")
def apple_api() -> Iterator[RecordedApi]:
    with RecordedApi({}) as api:
        yield api


@pytest.fixture(scope="module")
def two_workers(apple_api: RecordedApi, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Program]:
    base = tmp_path_factory.mktemp("apple-workers")
    write_whoami_plugin(base / "plugins")
    (base / "plugins" / "apple_on_loopback.py").write_text(TEST_PLUGIN)
    program = start_program("pbk-apple", base / "pb_data",
                            ["--workers", "2", "--pluginsDir", str(base / "plugins")],
                            env={"TEST_APPLE_URL": apple_api.url()})
    try:
        status, answer = program.call("PATCH", "/api/collections/users", {"oauth2": {
            "enabled": True, "mappedFields": {"name": "name"},
            "providers": [{"name": "apple", "clientId": CLIENT_ID, "clientSecret": "secret",
                           "tokenURL": apple_api.url("/token")}]}})
        assert status == 200, answer
        yield program
    finally:
        program.client.close()
        program.server.stop()


@asynccontextmanager
async def on_worker(url: str, worker: int) -> AsyncIterator[httpx.AsyncClient]:
    """A client whose kept-alive connection is served by ``worker``."""
    for _ in range(64):
        client = httpx.AsyncClient(base_url=url, timeout=10)
        if (await client.get(WHOAMI)).json()["worker"] == worker:
            try:
                yield client
                assert (await client.get(WHOAMI)).json()["worker"] == worker, "connection changed"
            finally:
                await client.aclose()
            return
        await client.aclose()
    raise AssertionError(f"no connection reached worker {worker}")


@pytest.mark.parametrize("redirect_worker", [0, 1])
async def test_apple_s_name_reaches_a_sign_in_on_the_other_worker(two_workers, apple_api,
                                                                   redirect_worker):
    account = f"apple-user-{redirect_worker}"
    claims = sample_id_token_claims(iss=apple_api.url(), aud=CLIENT_ID, sub=account,
                                    email=f"{account}@privaterelay.example", email_verified="true")
    apple_api.routes["POST /token"] = {"access_token": "at", "token_type": "bearer",
                                       "id_token": apple_api.sign_id_token(claims)}
    code = f"code-{redirect_worker}"
    user = json.dumps({"name": {"firstName": "Ann", "lastName": f"Lee{redirect_worker}"}})
    async with httpx.AsyncClient(base_url=two_workers.url, timeout=10) as stream_client, \
            stream_client.stream("GET", "/api/realtime") as stream:
        events = sse_events(stream.aiter_lines())
        _, connected = await anext(events)
        state = connected["clientId"]
        async with on_worker(two_workers.url, redirect_worker) as redirect:
            subscribed = await redirect.post("/api/realtime", json={"clientId": state,
                                                                    "subscriptions": ["@oauth2"]})
            assert subscribed.status_code == 204, subscribed.text
            await redirect.post("/api/oauth2-redirect",
                                data={"state": state, "code": code, "user": user})
        assert await anext(events) == ("@oauth2", {"state": state, "code": code})
    async with on_worker(two_workers.url, 1 - redirect_worker) as sign_in:
        answer = await sign_in.post("/api/collections/users/auth-with-oauth2", json={
            "provider": "apple", "code": code, "codeVerifier": "v" * 43,
            "redirectURL": f"{two_workers.url}/api/oauth2-redirect"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["meta"]["name"] == answer.json()["record"]["name"] == f"Ann Lee{redirect_worker}"
