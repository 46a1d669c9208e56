"""The plugin's parts on their own: the consent URL, reading token answers, which addresses an
avatar may come from, Apple's names, the catalogue's order, AuthUser's JSON."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

import httpx
import pytest
from pbk_oauth2 import avatar
from pbk_oauth2.apple_names import AppleNames
from pbk_oauth2.avatar import AvatarError, download_avatar, is_public
from pbk_oauth2.catalogue import Catalogue
from pbk_oauth2.protocol import TokenError, authorization_url, exchange_code, token_from_answer
from pbk_oauth2.providers.google import Google
from pbk_oauth2.providers.oidc import OIDC
from pbk_sdk.oauth2 import AuthUser, ProviderConfig, provider_names
from pbk_sdk.testing.oauth2 import RecordedApi


def google(**config) -> Google:
    return Google("google", ProviderConfig(client_id="cid", **config), httpx.AsyncClient())


def test_consent_url_has_go_s_sorted_parameters():
    url = authorization_url(google(), "STATE", "v" * 43)
    assert url.startswith("https://accounts.google.com/o/oauth2/v2/auth?client_id=cid&code_challenge=")
    assert url.endswith("&code_challenge_method=S256&response_type=code&scope=https%3A%2F%2F"
                        "www.googleapis.com%2Fauth%2Fuserinfo.profile+https%3A%2F%2Fwww.googleapis"
                        ".com%2Fauth%2Fuserinfo.email&state=STATE")


def test_consent_url_keeps_the_configured_query_and_extra_parameters():
    url = authorization_url(google(auth_url="https://idp.example/auth?tenant=t1"), "S",
                            extra={"response_mode": "form_post"})
    assert url == ("https://idp.example/auth?tenant=t1&client_id=cid&response_mode=form_post"
                   "&response_type=code&scope=https%3A%2F%2Fwww.googleapis.com%2Fauth%2Fuserinfo"
                   ".profile+https%3A%2F%2Fwww.googleapis.com%2Fauth%2Fuserinfo.email&state=S")


@pytest.mark.parametrize("answer", [{"error": "invalid_grant"}, {"token_type": "Bearer"},
                                    {"access_token": ""}], ids=["error", "no-token", "empty"])
def test_unusable_token_answers_are_refused(answer):
    with pytest.raises(TokenError):
        token_from_answer(answer)


def test_token_answer_fields():
    token = token_from_answer({"access_token": "at", "refresh_token": "rt", "expires_in": "3600",
                               "token_type": "bearer", "id_token": "x.y.z"})
    assert (token.access_token, token.refresh_token, token.id_token) == ("at", "rt", "x.y.z")
    assert token.expiry is not None and 3590 < (token.expiry - datetime.now(UTC)).total_seconds() <= 3600
    assert token_from_answer({"access_token": "at"}).expiry is None


async def test_refused_basic_credentials_are_sent_again_in_the_form():
    """As Go's oauth2 auto-detects the token endpoint's style: Basic first, then the form."""
    refused = (401, {"error": "invalid_client"})
    with RecordedApi({"POST /token": refused}) as api:
        async with httpx.AsyncClient() as http:
            provider = OIDC("oidc", ProviderConfig(client_id="cid", client_secret="sec",
                                                   token_url=api.url("/token")), http)
            with pytest.raises(TokenError):
                await exchange_code(provider, http, "the-code", "verifier", "https://app/cb")
    first, second = api.requests
    assert first.headers["authorization"].startswith("Basic ")
    assert b"client_secret=sec" in second.body and "authorization" not in second.headers
    assert b"code=the-code" in first.body and b"code_verifier=verifier" in first.body


@pytest.mark.parametrize(("address", "public"), [
    ("127.0.0.1", False), ("10.1.2.3", False), ("192.168.0.1", False), ("172.16.0.1", False),
    ("169.254.169.254", False), ("0.0.0.0", False), ("224.0.0.1", False), ("::1", False),
    ("::ffff:127.0.0.1", False), ("fe80::1", False), ("fd00::1", False),
    ("::127.0.0.1", False), ("::10.0.0.1", False), ("64:ff9b::127.0.0.1", False),
    ("64:ff9b::a9fe:a9fe", False), ("2002:7f00:1::1", False), ("2002:a00:1::", False),
    ("100.64.0.1", False), ("192.0.2.1", False), ("ff0e::1", False), ("2001:db8::1", False),
    ("8.8.8.8", True), ("2001:4860:4860::8888", True), ("::ffff:8.8.8.8", True),
    ("64:ff9b::808:808", True), ("2002:808:808::1", True),
], ids=lambda value: str(value))
def test_which_addresses_an_avatar_may_come_from(address, public):
    assert is_public(address) is public


@pytest.mark.parametrize("url", ["http://127.0.0.1:9/a.png", "http://localhost/a.png",
                                 "file:///etc/passwd", "http://[::1]/a.png"],
                         ids=["loopback", "localhost", "file", "ipv6"])
async def test_avatars_from_internal_addresses_are_refused(url):
    with pytest.raises(AvatarError):
        await download_avatar(url)


async def drip(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """An avatar server sending a byte every 0.1 s for 3 s: each read is quick, the whole is not."""
    await reader.readuntil(b"\r\n\r\n")
    writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: image/png\r\ncontent-length: 30\r\n\r\n")
    for _ in range(30):
        writer.write(b"x")
        await writer.drain()
        await asyncio.sleep(0.1)
    writer.close()


async def test_an_avatar_download_has_one_time_limit_in_all(monkeypatch):
    """Loopback is let through here only (the drip server is on it), the limit made short."""
    monkeypatch.setattr(avatar, "is_public", lambda address: True)
    monkeypatch.setattr(avatar, "TIMEOUT_SECONDS", 0.5)
    server = await asyncio.start_server(drip, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    started = time.monotonic()
    async with server:
        with pytest.raises(AvatarError, match="took more than"):
            await download_avatar(f"http://127.0.0.1:{port}/a.png")
    assert time.monotonic() - started < 1.5


def test_apple_names_are_kept_once_and_not_for_long(monkeypatch):
    names = AppleNames()
    names.keep("code-1", '{"name": {"firstName": "Ann", "lastName": "Lee"}}')
    names.keep("code-2", "not json")
    assert (names.take("code-1"), names.take("code-1"), names.take("code-2")) == ("Ann Lee", "", "")
    names.keep("code-3", '{"name": {"firstName": "Bo"}}')
    later = time.monotonic() + 61
    monkeypatch.setattr(time, "monotonic", lambda: later)
    assert names.take("code-3") == ""


def test_catalogue_order_and_names():
    listing = Catalogue.installed().listing()
    names = [item["name"] for item in listing]
    assert names.index("google") < names.index("github") < names.index("oidc") < names.index("oidc3")
    assert {"github", "google", "oidc", "oidc2", "oidc3"} <= provider_names()


def test_auth_user_json_is_pocketbase_s():
    user = AuthUser(id="1", avatar_url="https://a/b.png",
                    expiry=datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC))
    data = user.to_json()
    assert data["expiry"] == "2026-01-02 03:04:05.678Z"
    assert data["avatarURL"] == data["avatarUrl"] == "https://a/b.png"
    assert AuthUser(id="1").to_json()["expiry"] == ""
