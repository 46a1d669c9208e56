"""The official JS SDK's OAuth2 sign-ins against pbk (and PocketBase, for the same outcome), with
a real OpenID Connect provider: ``authWithOAuth2Code`` after the app's own redirect, and the
one-call ``authWithOAuth2({provider, urlCallback})`` over the realtime ``@oauth2`` topic, its
URL followed by a client that keeps the provider's cookies as a browser does."""

from __future__ import annotations

import pytest

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
