"""pbk_sdk.client_ip: the client's address as PocketBase's RealIP finds it."""

from __future__ import annotations

from typing import Any

import falcon.asgi
import pytest
from falcon.testing import create_scope
from pbk_sdk.client_ip import ip_in_list, real_ip, superuser_ip_allowed

SPOOFED = [("X-Forwarded-For", "6.6.6.6"), ("X-Real-IP", "6.6.6.6"), ("CF-Connecting-IP", "6.6.6.6")]


@pytest.fixture
def pbk_plugins() -> list[str]:
    return []


def request(headers: list[tuple[str, str]], peer: str = "192.0.2.1") -> falcon.asgi.Request:
    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    scope = create_scope(remote_addr=peer)
    scope["headers"] = [(name.lower().encode(), value.encode()) for name, value in headers]
    return falcon.asgi.Request(scope, receive)


async def trust(app: Any, headers: list[str], leftmost: bool = False) -> None:
    await app.settings.update({"trustedProxy": {"headers": headers, "useLeftmostIP": leftmost}})


async def test_without_trusted_headers_a_client_cannot_choose_its_ip(pbk_app):
    assert real_ip(pbk_app, request(SPOOFED)) == "192.0.2.1"
    await trust(pbk_app, ["X-Other"])
    assert real_ip(pbk_app, request(SPOOFED)) == "192.0.2.1"


async def test_the_first_trusted_header_present_names_the_client(pbk_app):
    await trust(pbk_app, ["X-Missing", "X-Real-IP", "X-Forwarded-For"])
    assert real_ip(pbk_app, request(SPOOFED)) == "6.6.6.6"
    # An empty or IP-less value falls through to the next header, then to the peer.
    assert real_ip(pbk_app, request([("X-Real-IP", ""), ("X-Forwarded-For", "7.7.7.7")])) == "7.7.7.7"
    assert real_ip(pbk_app, request([("X-Real-IP", "junk, more junk")])) == "192.0.2.1"


async def test_rightmost_by_default_leftmost_when_set(pbk_app):
    chain = [("X-Forwarded-For", " 1.1.1.1 , 2.2.2.2,3.3.3.3, junk ")]
    await trust(pbk_app, ["X-Forwarded-For"])
    assert real_ip(pbk_app, request(chain)) == "3.3.3.3"
    await trust(pbk_app, ["X-Forwarded-For"], leftmost=True)
    assert real_ip(pbk_app, request(chain)) == "1.1.1.1"


async def test_a_repeated_header_counts_by_its_last_line(pbk_app):
    await trust(pbk_app, ["X-Forwarded-For"], leftmost=True)
    lines = [("X-Forwarded-For", "6.6.6.6"), ("X-Forwarded-For", "4.4.4.4, 5.5.5.5")]
    assert real_ip(pbk_app, request(lines)) == "4.4.4.4"


async def test_ipv6_is_written_in_full_as_pocketbase_does(pbk_app):
    assert real_ip(pbk_app, request([], peer="::1")) == "0000:0000:0000:0000:0000:0000:0000:0001"
    await trust(pbk_app, ["X-Real-IP"])
    assert real_ip(pbk_app, request([("X-Real-IP", "2001:db8::5")])) == "2001:0db8:0000:0000:0000:0000:0000:0005"


def test_ip_lists_hold_ips_and_subnets_of_both_families():
    entries = ["10.0.0.0/8", "192.0.2.7", "2001:db8::/32", "not an ip", 42]
    assert ip_in_list(entries, "10.20.30.40") and ip_in_list(entries, "192.0.2.7")
    assert ip_in_list(entries, "2001:0db8:0000:0000:0000:0000:0000:0005")
    assert not ip_in_list(entries, "192.0.2.8") and not ip_in_list(entries, "2001:db9::1")
    assert not ip_in_list(entries, "") and not ip_in_list(entries, "junk")
    assert ip_in_list(["10.1.2.3/16"], "10.1.200.1")  # a host address with a mask: its subnet


async def test_superuser_ips_empty_allows_everyone(pbk_app):
    assert superuser_ip_allowed(pbk_app, request([]))
    await pbk_app.settings.update({"superuserIPs": ["192.0.2.0/30"]})
    assert superuser_ip_allowed(pbk_app, request([], peer="192.0.2.3"))
    assert not superuser_ip_allowed(pbk_app, request([], peer="192.0.2.4"))
