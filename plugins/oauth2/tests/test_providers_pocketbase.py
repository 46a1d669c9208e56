"""Every provider's defaults as the real PocketBase 0.40.6 has them: its display name, its
authorization URL, the scopes it asks and whether it sends PKCE, read from the URL PocketBase
builds for a collection with all the providers enabled (``auth-methods``)."""

from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from pbk_sdk.oauth2 import installed_providers
from pbk_sdk.testing import pocketbase_superuser, start_pocketbase, superuser_token

#: The providers this package adds to GitHub, Google and OIDC (tested in their own files).
NAMES = ("apple", "microsoft", "yandex", "facebook", "instagram2", "gitlab", "bitbucket",
         "gitee", "gitea", "discord", "twitter", "kakao", "vk", "linear", "notion", "monday",
         "box", "spotify", "trakt", "twitch", "patreon", "strava", "wakatime", "livechat",
         "mailcow", "planningcenter", "lark")
EMAIL, PASSWORD = "root@example.com", "correct-horse-battery"


@pytest.fixture(scope="module")
def pocketbase_auth_methods(tmp_path_factory):
    """``auth-methods`` of PocketBase's ``users`` with every provider of ``NAMES`` enabled."""
    data_dir = tmp_path_factory.mktemp("providers") / "pb_real"
    pocketbase_superuser(data_dir, EMAIL, PASSWORD)
    server = start_pocketbase(data_dir)
    try:
        token = superuser_token(server.url, EMAIL, PASSWORD)
        providers = [{"name": name, "clientId": "test-client", "clientSecret": "test-secret"}
                     for name in NAMES]
        answer = httpx.patch(f"{server.url}/api/collections/users",
                             headers={"Authorization": token},
                             json={"oauth2": {"enabled": True, "providers": providers}})
        assert answer.status_code == 200, answer.text
        methods = httpx.get(f"{server.url}/api/collections/users/auth-methods").json()
    finally:
        server.stop()
    return {entry["name"]: entry for entry in methods["oauth2"]["providers"]}


@pytest.mark.parametrize("name", NAMES)
def test_provider_defaults_match_pocketbase(name, pocketbase_auth_methods):
    provider, theirs = installed_providers()[name], pocketbase_auth_methods[name]
    url = urlsplit(theirs["authURL"])
    query = parse_qs(url.query)
    base = f"{url.scheme}://{url.netloc}{url.path}" if url.netloc else ""
    assert (provider.display_name, provider.auth_url) == (theirs["displayName"], base)
    assert provider.scopes == tuple(" ".join(query.get("scope", [])).split())
    assert provider.pkce == ("code_challenge" in query)
