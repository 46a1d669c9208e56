"""An auth collection's OAuth2 settings in a real browser: a provider configured through the
dashboard against a real OpenID Connect provider (npm's ``oidc-provider``, as the oauth2
plugin's tests run it), read back through the API (the secret set yet never answered, and kept
when another option changes) and used to sign users in; the id_token mode kept, issuers typed,
client ids trimmed; the keyboard in the picker and the focus; the server's errors beside the
inputs; Apple's generated secret; no OAuth2 for superusers (as in PocketBase) nor without the
plugin."""

from __future__ import annotations

import base64
import json
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from browser_support import screenshot
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from dashboard_server import create_record, open_signed_in, serve_prepared
from pbk_sdk.testing import LiveServer, superuser_token
from playwright.sync_api import expect

# the real OpenID Connect provider and the user's browser live with the oauth2 plugin's tests
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "oauth2" / "tests"))

from oauth2_idp import Idp, start_idp
from oauth2_servers import follow

ROOT = ("root@example.com", "root-password-1")
PLUGINS = "records,auth,files,realtime,settings,oauth2,admin"
CLIENT = ("dashboard-client", "dashboard-secret")
CALLBACK = "/callback"


async def add_root(app: Any, url: str) -> None:
    await create_record(app, "_superusers", {"email": ROOT[0], "password": ROOT[1]})


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    live = serve_prepared(tmp_path_factory.mktemp("oauth2-settings") / "pb_data", add_root, plugins=PLUGINS)
    httpx.post(f"{live.url}/api/collections", headers=headers(live), json={
        "name": "members", "type": "auth",
        "fields": [{"name": "nickname", "type": "text"}, {"name": "score", "type": "number"}],
    }).raise_for_status()
    yield live
    live.stop()


@pytest.fixture(scope="module")
def idp(server: LiveServer) -> Iterator[Idp]:
    client = {"client_id": CLIENT[0], "client_secret": CLIENT[1], "redirect_uris": [server.url + CALLBACK],
              "grant_types": ["authorization_code"], "response_types": ["code"]}
    running = start_idp([client])
    yield running
    running.stop()


def headers(server: LiveServer) -> dict[str, str]:
    return {"Authorization": superuser_token(server.url, *ROOT)}


def collection(server: LiveServer, name: str) -> Any:
    answer = httpx.get(f"{server.url}/api/collections/{name}", headers=headers(server))
    return answer.raise_for_status().json()


def edit_collection(page: Any, server: LiveServer, name: str) -> Any:
    """The editor of ``name``, opened from its records page once the dashboard knows the
    server's plugins; the dialog."""
    with page.expect_response(lambda answer: answer.url.endswith("/api/admin/features")):
        open_signed_in(page, server, *ROOT)
    sidebar = page.get_by_role("navigation", name="Collections")
    sidebar.get_by_role("link", name=f"{name} auth", exact=True).click()
    page.get_by_role("button", name="Edit collection").click()
    return page.get_by_role("dialog")


def add_provider(panel: Any, search: str, name: str) -> Any:
    """Picks ``name`` (``"OIDC (oidc)"``) from the catalogue searched for ``search``; its group."""
    panel.get_by_role("button", name="Add provider").click()
    panel.get_by_label("Search providers").fill(search)
    panel.get_by_role("button", name=f"Add {name}").click()
    return panel.get_by_role("group", name=name)


def save(panel: Any) -> None:
    panel.get_by_role("button", name="Save changes").click()
    expect(panel.page.get_by_text("Collection saved.")).to_be_visible()
    expect(panel).to_have_count(0)


def sign_in_with_the_idp(server: LiveServer, idp: Idp, account: str, **claims: Any) -> dict[str, Any]:
    """A user's whole OAuth2 sign-in to ``users`` through ``oidc``: the consent URL that
    auth-methods lists, the provider's redirects, auth-with-oauth2; its answer."""
    idp.sign_in_as(account, **claims)
    methods = httpx.get(f"{server.url}/api/collections/users/auth-methods").raise_for_status().json()
    entry = next(p for p in methods["oauth2"]["providers"] if p["name"] == "oidc")
    redirect = server.url + CALLBACK
    query = parse_qs(urlsplit(follow(entry["authURL"] + redirect, redirect)).query)
    answer = httpx.post(f"{server.url}/api/collections/users/auth-with-oauth2", json={
        "provider": "oidc", "code": query["code"][0], "codeVerifier": entry["codeVerifier"],
        "redirectURL": redirect})
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_an_oidc_provider_set_up_in_the_dashboard_signs_users_in(
    server: LiveServer, idp: Idp, page: Any
) -> None:
    panel = edit_collection(page, server, "users")
    provider = add_provider(panel, "oid", "OIDC (oidc)")
    expect(provider.get_by_label("Display name")).to_have_value("OIDC")
    expect(provider.get_by_label("Support PKCE")).to_be_checked()
    expect(provider.get_by_text("Not set.")).to_be_visible()
    provider.get_by_label("Client ID").fill(CLIENT[0])
    provider.get_by_label("Client secret").fill(CLIENT[1])
    expect(provider.get_by_text("Set: sent on save.")).to_be_visible()
    provider.get_by_label("Auth URL").fill(f"{idp.url}/auth")
    provider.get_by_label("Token URL").fill(f"{idp.url}/token")
    provider.get_by_label("User info URL").fill(f"{idp.url}/me")
    expect(panel.get_by_label("OAuth2 sign-in")).to_be_checked()  # on with the first provider
    panel.get_by_text("Fields filled from the provider's user on sign-up").click()
    expect(panel.get_by_label("OAuth2 full name")).to_have_value("name")  # users' default mapping
    provider.locator("summary").evaluate("summary => summary.scrollIntoView()")
    screenshot(page, "oauth2-settings")
    save(panel)

    oauth2 = collection(server, "users")["oauth2"]
    [saved] = oauth2["providers"]
    assert oauth2["enabled"] is True and "clientSecret" not in saved
    assert {key: saved[key] for key in ("name", "clientId", "authURL", "tokenURL", "userInfoURL",
                                        "displayName", "pkce")} == {
        "name": "oidc", "clientId": CLIENT[0], "authURL": f"{idp.url}/auth", "tokenURL": f"{idp.url}/token",
        "userInfoURL": f"{idp.url}/me", "displayName": "OIDC", "pkce": True}
    ann = {"email": "ann@example.com", "email_verified": True, "name": "Ann Lee"}
    first = sign_in_with_the_idp(server, idp, "ann", **ann)
    assert first["meta"]["isNew"] is True and first["record"]["name"] == "Ann Lee"

    # Another option changed, the secret left alone: the stored secret is kept (the token
    # exchange needs it).
    panel = edit_collection(page, server, "users")
    provider = panel.get_by_role("group", name="OIDC (oidc)")
    provider.locator("summary").click()
    expect(provider.get_by_text("Stored (write-only: never shown).", exact=False)).to_be_visible()
    expect(provider.get_by_label("Client secret")).to_have_value("")
    provider.get_by_label("Display name").fill("Acme SSO")
    with page.expect_request(lambda request: request.method == "PATCH") as sent:
        save(panel)
    assert "clientSecret" not in json.loads(sent.value.post_data)["oauth2"]["providers"][0]
    [saved] = collection(server, "users")["oauth2"]["providers"]
    assert saved["displayName"] == "Acme SSO" and "clientSecret" not in saved
    again = sign_in_with_the_idp(server, idp, "ann", **ann)
    assert again["meta"]["isNew"] is False and again["record"]["id"] == first["record"]["id"]


def test_id_token_mode_kept_issuers_typed_and_ids_trimmed(server: LiveServer, page: Any) -> None:
    httpx.post(f"{server.url}/api/collections", headers=headers(server),
               json={"name": "staff", "type": "auth"}).raise_for_status()
    panel = edit_collection(page, server, "staff")
    provider = add_provider(panel, "oidc2", "OIDC (oidc2)")
    source = provider.get_by_label("Fetch the user from")
    expect(source).to_have_value("true")  # a new one: the user info URL, as in PocketBase
    provider.get_by_label("Client ID").fill("  staff-client ")
    provider.get_by_label("Client secret").fill(" staff-secret  ")
    provider.get_by_label("Auth URL").fill("https://sso.example.com/auth")
    provider.get_by_label("Token URL").fill("https://sso.example.com/token")
    source.select_option("ID token")  # the key set and the issuers left empty: both optional
    with page.expect_request(lambda request: request.method == "PATCH") as sent:
        save(panel)
    written = json.loads(sent.value.post_data)["oauth2"]["providers"][0]
    assert (written["clientId"], written["clientSecret"]) == ("staff-client", "staff-secret")
    [saved] = collection(server, "staff")["oauth2"]["providers"]
    assert (saved["clientId"], saved["userInfoURL"], saved["extra"]) == ("staff-client", "", {})

    panel = edit_collection(page, server, "staff")
    provider = panel.get_by_role("group", name="OIDC (oidc2)")
    provider.locator("summary").click()
    expect(provider.get_by_label("Fetch the user from")).to_have_value("false")  # still the id_token
    issuers = provider.get_by_label("Issuers", exact=False)
    issuers.press_sequentially("a, b")  # key by key: the comma and the space stay
    expect(issuers).to_have_value("a, b")
    save(panel)
    [saved] = collection(server, "staff")["oauth2"]["providers"]
    assert saved["extra"] == {"issuers": ["a", "b"]}


def test_the_keyboard_in_the_picker_and_the_focus(server: LiveServer, page: Any) -> None:
    panel = edit_collection(page, server, "users")
    panel.get_by_role("button", name="Add provider").click()
    search = panel.get_by_label("Search providers")
    expect(search).to_be_focused()
    search.fill("git")
    search.press("Enter")  # several match: nothing added, and the collection is not saved
    expect(panel.get_by_role("button", name="Add GitHub (github)")).to_be_visible()
    search.fill("gith")
    search.press("Enter")  # the only match is added
    github = panel.get_by_role("group", name="GitHub (github)")
    expect(github.get_by_label("Client ID")).to_be_focused()
    expect(panel.get_by_label("Search providers")).to_have_count(0)
    panel.get_by_role("button", name="Add provider").click()
    panel.get_by_role("group", name="Add an OAuth2 provider").get_by_role("button", name="Cancel").click()
    expect(panel.get_by_role("button", name="Add provider")).to_be_focused()
    expect(panel).to_be_visible()  # never submitted


def test_server_errors_beside_the_inputs_then_fixed(server: LiveServer, page: Any) -> None:
    panel = edit_collection(page, server, "members")
    google = add_provider(panel, "goo", "Google (google)")
    gitlab = add_provider(panel, "lab", "GitLab (gitlab)")
    gitlab.get_by_label("Client ID").fill("gitlab-id")
    gitlab.get_by_label("Client secret").fill("gitlab-secret")
    gitlab.get_by_label("Auth URL").fill("not a url")
    with page.watch.expect(400):
        panel.get_by_role("button", name="Save changes").click()
        expect(google.locator("#oauth2-google-client-id-error")).to_have_text("Cannot be blank.")
    expect(google.locator("#oauth2-google-client-secret-error")).to_have_text("Cannot be blank.")
    expect(google.locator("summary")).to_contain_text("2 problems")
    expect(gitlab.locator("#oauth2-gitlab-authURL-error")).to_have_text("Must be a valid URL.")
    expect(gitlab.get_by_label("Auth URL")).to_have_attribute("aria-invalid", "true")

    google.get_by_role("button", name="Remove").click()
    google.get_by_role("button", name="Yes, remove").click()
    expect(panel.get_by_role("group", name="Google (google)")).to_have_count(0)
    gitlab.get_by_label("Auth URL").fill("https://git.example.com/oauth/authorize")
    panel.get_by_text("Fields filled from the provider's user on sign-up").click()
    panel.get_by_label("OAuth2 username").select_option("nickname")
    # only text-like fields: not the number, nor the auth fields
    expect(panel.get_by_label("OAuth2 id").locator("option")).to_have_text(["None", "nickname"])
    save(panel)

    oauth2 = collection(server, "members")["oauth2"]
    assert [p["name"] for p in oauth2["providers"]] == ["gitlab"] and oauth2["enabled"] is True
    assert oauth2["providers"][0]["authURL"] == "https://git.example.com/oauth/authorize"
    assert oauth2["mappedFields"]["username"] == "nickname"

    # The last provider removed turns OAuth2 off, as in PocketBase.
    panel = edit_collection(page, server, "members")
    gitlab = panel.get_by_role("group", name="GitLab (gitlab)")
    gitlab.locator("summary").click()
    gitlab.get_by_role("button", name="Remove").click()
    gitlab.get_by_role("button", name="Yes, remove").click()
    expect(panel.get_by_label("OAuth2 sign-in")).not_to_be_checked()
    save(panel)
    assert collection(server, "members")["oauth2"]["providers"] == []


def test_apples_secret_generated_from_a_key(server: LiveServer, page: Any) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    panel = edit_collection(page, server, "members")
    apple = add_provider(panel, "apple", "Apple (apple)")
    apple.get_by_label("Client ID").fill("com.example.web")
    apple.get_by_role("button", name="Generate secret").click()
    generator = apple.get_by_role("group", name="Generate Apple client secret")
    expect(generator.get_by_label("Services ID (client ID)")).to_have_value("com.example.web")
    expect(generator.get_by_label("Services ID (client ID)")).to_be_focused()
    generator.get_by_label("Team ID").fill("TEAM123456")
    generator.get_by_label("Key ID").fill("KEY1234567")
    generator.get_by_label("Private key (.p8)").fill("not a key")
    with page.watch.expect(400):
        generator.get_by_label("Key ID").press("Enter")  # generates; the collection is not saved
        expect(generator.get_by_text("Must be in a valid format.")).to_be_visible()
    generator.get_by_label("Private key (.p8)").fill(pem)
    generator.get_by_role("button", name="Generate", exact=True).click()
    expect(apple.get_by_text("Set: sent on save.")).to_be_visible()
    expect(apple.get_by_role("button", name="Generate secret")).to_be_focused()
    apple.get_by_role("button", name="Generate secret").click()
    expect(generator.get_by_label("Private key (.p8)")).to_have_value("")  # not kept
    generator.get_by_role("button", name="Cancel").click()
    expect(apple.get_by_role("button", name="Generate secret")).to_be_focused()
    with page.expect_request(lambda request: request.method == "PATCH") as sent:
        save(panel)

    secret = json.loads(sent.value.post_data)["oauth2"]["providers"][0]["clientSecret"]
    header, claims = (json.loads(base64.urlsafe_b64decode(part + "==")) for part in secret.split(".")[:2])
    assert (header["alg"], header["kid"]) == ("ES256", "KEY1234567")
    assert (claims["iss"], claims["sub"]) == ("TEAM123456", "com.example.web")
    [saved] = collection(server, "members")["oauth2"]["providers"]
    assert saved["name"] == "apple" and "clientSecret" not in saved


def test_oauth2_is_offered_neither_to_superusers_nor_without_its_plugin(
    server: LiveServer, page: Any, tmp_path: Path
) -> None:
    panel = edit_collection(page, server, "_superusers")
    expect(panel.get_by_text("One-time code (OTP) sign-in")).to_be_visible()
    expect(panel.get_by_label("OAuth2 sign-in")).to_have_count(0)  # PocketBase never has superusers use it
    page.keyboard.press("Escape")

    # prepared on another thread: Playwright's sync API keeps an event loop running on this one
    with ThreadPoolExecutor(1) as thread:
        started = thread.submit(serve_prepared, tmp_path / "pb_data", add_root, plugins="records,auth,admin")
        bare = started.result()
    try:
        panel = edit_collection(page, bare, "users")
        expect(panel.get_by_text("One-time code (OTP) sign-in")).to_be_visible()
        expect(panel.get_by_label("OAuth2 sign-in")).to_have_count(0)
    finally:
        bare.stop()
