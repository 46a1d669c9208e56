"""``pbk serve DOMAIN...``'s names and addresses, as PocketBase's ``serve`` derives them (the
serving itself is tested end to end against an ACME server in plugins/autotls)."""

from __future__ import annotations

import pytest
from pbk.config import Config
from pbk.tls import _port_443, base_url, certificate_names
from pbk_sdk.tls import certificate_name


@pytest.mark.parametrize(
    ("domains", "https", "expected", "www"),
    [
        (("example.com",), "0.0.0.0:443", ("example.com",), ("www.example.com",)),
        (("Example.COM.", "api.example.com"), "0.0.0.0:443", ("example.com", "api.example.com"),
         ("www.example.com", "www.api.example.com")),
        (("example.com", "www.example.com"), "0.0.0.0:443", ("example.com", "www.example.com"), ()),
        (("www.example.com",), "0.0.0.0:443", ("www.example.com",), ()),
    ],
)
def test_certificate_names_follow_pocketbase(domains, https, expected, www):
    names = certificate_names(Config(domains=domains, https=https))
    assert (names.domains, names.on_demand, names.www_redirects) == (expected, www, www)


@pytest.mark.parametrize("https", ["0.0.0.0:443", "127.0.0.1:8443", ":443", "[::1]:443"])
def test_https_alone_on_an_ip_address_orders_nothing(https):
    """PocketBase allows the address's host, which no client sends as a server name."""
    names = certificate_names(Config(https=https))
    assert (names.domains, names.on_demand, names.www_redirects) == ((), (), ())
    assert "0.0.0.0" not in names


def test_https_alone_on_a_name_obtains_it_when_asked():
    names = certificate_names(Config(https="Example.com:443"))
    assert names.domains == ()  # nothing ordered at start, as autocert
    assert names.on_demand == ("example.com", "www.example.com")
    assert names.www_redirects == ("www.example.com",)


@pytest.mark.parametrize(
    ("name", "ascii_name"),
    [("Example.COM.", "example.com"), ("bücher.example", "xn--bcher-kva.example"), ("_a-1.example", "_a-1.example")],
)
def test_certificate_names_are_ascii_lower_case(name, ascii_name):
    assert certificate_name(name) == ascii_name


@pytest.mark.parametrize("name", ["*.example.test", "a..example", ".example", "localhost", "1.2.3.4", "::1",
                                  "-a.example", "a b.example", "a/b.example", ""])
def test_names_without_a_certificate_are_refused(name):
    with pytest.raises(ValueError, match="cannot obtain a certificate for"):
        certificate_name(name)


def test_banner_url_is_the_first_domain_when_serving_https():
    assert base_url(Config(http="127.0.0.1:8090")) == "http://127.0.0.1:8090"
    assert base_url(Config(https="0.0.0.0:443", domains=("a.example", "b.example"))) == "https://a.example"
    assert base_url(Config(https="127.0.0.1:8443")) == "https://127.0.0.1:8443"


@pytest.mark.parametrize(
    ("host", "target"),
    [
        ("example.com", "example.com"),
        ("example.com:8080", "example.com:443"),
        ("[::1]:80", "[::1]:443"),
        ("[::1]", "[::1]"),
    ],
)
def test_redirect_target_is_autocerts(host, target):
    assert _port_443(host) == target


def test_https_needs_a_certificate_provider(pbk_cli, tmp_path):
    result = pbk_cli("serve", "example.com", "--http", "127.0.0.1:0", "--https", "127.0.0.1:0")
    assert result.exit_code == 1
    assert "needs exactly one TLS certificate provider plugin (pbk-autotls); none is loaded" in result.output


def test_a_bad_https_address_is_one_line(pbk_cli):
    result = pbk_cli("serve", "example.com", "--https", "nope")
    assert result.exit_code == 1
    assert result.output.strip() == "Error: invalid --https address 'nope': expected HOST:PORT"


@pytest.mark.parametrize("domain", ["*.example.test", "a..example.test"])
def test_a_bad_domain_is_one_line_before_anything_starts(pbk_cli, domain):
    result = pbk_cli("serve", domain, "--http", "127.0.0.1:0", "--https", "127.0.0.1:0")
    assert result.exit_code == 1
    assert result.output.strip() == (
        f"Error: cannot obtain a certificate for {domain!r}: not a domain name (such as example.com)"
    )
