"""The official JS SDK's OAuth2 sign-ins against pbk (and PocketBase, for the same outcome), with
a real OpenID Connect provider: ``authWithOAuth2Code`` after the app's own redirect, and the
one-call ``authWithOAuth2({provider, urlCallback})`` over the realtime ``@oauth2`` topic, its
URL followed by a client that keeps the provider's cookies as a browser does."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from oauth2_servers import FAILURE_TEXT, SUCCESS_TEXT, Servers, start_program
from pbk_sdk.testing import Program
from pbk_sdk.testing.sse import sse_events

pytestmark = pytest.mark.slow

FOLLOW = """
async function follow(url, stopAt) {
  const cookies = new Map();
  for (let i = 0; i < 20; i++) {
    const cookie = [...cookies].map(([name, value]) => `${name}=${value}`).join("; ");
    const response = await fetch(url, { redirect: "manual", headers: cookie ? { cookie } : {} });
    for (const line of response.headers.getSetCookie()) {
      const pair = line.split(";")[0];
      cookies.set(pair.slice(0, pair.indexOf("=")), pair.slice(pair.indexOf("=") + 1));
    }
    const location = response.headers.get("location");
    if (!location) throw new Error(`no redirect from ${url}: ${response.status}`);
    url = new URL(location, url).toString();
    if (url.startsWith(stopAt)) return url;
  }
  throw new Error("too many redirects");
}
"""


@pytest.mark.parametrize("program", ["pocketbase", "pbk"])
def test_auth_with_oauth2_code(js_sdk, servers, program):
    target = getattr(servers, program)
    servers.idp.sign_in_as(f"js-code-{program}", email=f"js-code-{program}@example.com",
                           email_verified=True, name="Code Flow")
    result = js_sdk.run(FOLLOW + """
const methods = await pb.collection("users").listAuthMethods();
const provider = methods.oauth2.providers.find((p) => p.name === "oidc");
const redirect = process.env.PB_URL + "/callback";
const back = new URL(await follow(provider.authURL + redirect, redirect));
const auth = await pb.collection("users").authWithOAuth2Code(
  "oidc", back.searchParams.get("code"), provider.codeVerifier, redirect, { emailVisibility: true });
output({ email: auth.record.email, name: auth.record.name, isNew: auth.meta.isNew,
         valid: pb.authStore.isValid, id: pb.authStore.record.id === auth.record.id });
""", target.url)
    assert result == {"email": f"js-code-{program}@example.com", "name": "Code Flow",
                      "isNew": True, "valid": True, "id": True}


@pytest.mark.parametrize("program", ["pocketbase", "pbk"])
def test_auth_with_oauth2_in_one_call(js_sdk, servers, program):
    target = getattr(servers, program)
    servers.idp.sign_in_as(f"js-realtime-{program}", email=f"js-realtime-{program}@example.com",
                           email_verified=True)
    result = js_sdk.run(FOLLOW + """
let landed;
const auth = await pb.collection("users").authWithOAuth2({
  provider: "oidc3",
  urlCallback: (url) => { landed = follow(url, process.env.PB_URL + "/_/"); },
});
output({ email: auth.record.email, isNew: auth.meta.isNew, valid: pb.authStore.isValid,
         landed: (await landed).slice(process.env.PB_URL.length) });
""", target.url)
    assert result == {"email": f"js-realtime-{program}@example.com", "isNew": True, "valid": True,
                      "landed": "/_/#/auth/oauth2-redirect-success"}


@pytest.fixture(scope="module")
def two_workers(servers: Servers, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Program]:
    """pbk with two workers: the realtime stream and the redirect may reach different ones."""
    port = int(servers.workers_url.rsplit(":", 1)[1])
    program = start_program("pbk-workers", tmp_path_factory.mktemp("workers") / "pb_data",
                            ["--workers", "2"], port=port)
    try:
        servers.configure(program)
        yield program
    finally:
        program.client.close()
        program.server.stop()


def test_auth_with_oauth2_in_one_call_across_workers(js_sdk, servers, two_workers):
    """Four sign-ins: with two workers, the redirect meets the other worker's client now and
    then (1 in 2 each time), which the realtime plugin reaches through the supervisor. This
    pbk has no dashboard: the browser is left on PocketBase's plain page."""
    servers.idp.sign_in_as("js-workers", email="js-workers@example.com", email_verified=True)
    result = js_sdk.run(FOLLOW + """
const emails = [], pages = [];
for (let i = 0; i < 4; i++) {
  const client = new PocketBase(process.env.PB_URL);
  client.autoCancellation(false);
  const auth = await client.collection("users").authWithOAuth2({
    provider: "oidc3",
    urlCallback: (url) => {
      pages.push(follow(url, process.env.PB_URL + "/api/oauth2-redirect")
        .then((back) => fetch(back)).then((page) => page.text()));
    },
  });
  emails.push(auth.record.email);
}
output({ emails, pages: await Promise.all(pages) });
""", two_workers.url)
    assert result == {"emails": ["js-workers@example.com"] * 4, "pages": [SUCCESS_TEXT] * 4}


async def test_the_redirect_reaches_the_client_on_either_worker(two_workers):
    """Each redirect on a connection of its own, so it lands on either worker: the client gets
    the code every time, then is unsubscribed (a second redirect with its state fails)."""
    async with httpx.AsyncClient(base_url=two_workers.url, timeout=10) as stream_client, \
            stream_client.stream("GET", "/api/realtime") as stream:
        events = sse_events(stream.aiter_lines())
        _, connected = await anext(events)
        client_id = connected["clientId"]
        for attempt in range(6):
            async with httpx.AsyncClient(base_url=two_workers.url, timeout=10) as fresh:
                await fresh.post("/api/realtime", json={"clientId": client_id, "subscriptions": ["@oauth2"]})
                done = await fresh.get(f"/api/oauth2-redirect?state={client_id}&code=c{attempt}")
                again = await fresh.get(f"/api/oauth2-redirect?state={client_id}&code=c{attempt}")
            assert (done.status_code, done.text) == (200, SUCCESS_TEXT)
            assert (again.status_code, again.text) == (200, FAILURE_TEXT)
            assert await anext(events) == ("@oauth2", {"state": client_id, "code": f"c{attempt}"})
