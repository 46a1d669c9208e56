"""The JS SDK's one-call ``authWithOAuth2()`` on one of two ``pbk serve`` nodes sharing a
PostgreSQL database, the provider's redirect landing on the other node (as a load balancer may
send it): the other node passes the code to the realtime client it does not hold."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from oauth2_servers import SUCCESS_TEXT, Servers
from pbk_sdk.testing.nodes import Node, running_nodes
from pbk_sdk.testing.postgres import postgres_database
from test_oauth2_js import FOLLOW

pytestmark = pytest.mark.slow
PLUGINS = ["records", "auth", "realtime", "oauth2"]


@pytest.fixture(scope="module")
def nodes(servers: Servers, tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[Node]]:
    """Node A on the port the provider sends users back to, node B anywhere."""
    port = int(servers.workers_url.rsplit(":", 1)[1])
    with postgres_database() as url, \
            running_nodes(tmp_path_factory.mktemp("oauth2-nodes"), url, PLUGINS, first_port=port) as nodes:
        providers = [provider for provider in servers.providers() if provider["name"] != "acme"]
        configured = httpx.patch(f"{nodes[0].url}/api/collections/users", headers={"Authorization": nodes[0].token},
                                 json={"oauth2": {"enabled": True, "providers": providers}}, timeout=30)
        assert configured.status_code == 200, configured.text
        yield nodes


def test_auth_with_oauth2_in_one_call_with_the_redirect_on_the_other_node(js_sdk, servers, nodes):
    a, b = nodes
    servers.idp.sign_in_as("js-nodes", email="js-nodes@example.com", email_verified=True)
    result = js_sdk.run(FOLLOW + """
let page;
const auth = await pb.collection("users").authWithOAuth2({
  provider: "oidc3",
  urlCallback: (url) => {
    page = follow(url, process.env.PB_URL + "/api/oauth2-redirect")
      .then((back) => fetch(process.env.NODE_B + back.slice(process.env.PB_URL.length)))
      .then((answer) => answer.text());
  },
});
output({ email: auth.record.email, valid: pb.authStore.isValid, page: await page });
""", a.url, env={"NODE_B": b.url})
    assert result == {"email": "js-nodes@example.com", "valid": True, "page": SUCCESS_TEXT}
