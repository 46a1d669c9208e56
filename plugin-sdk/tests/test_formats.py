"""govalidator's URL and email formats as PocketBase 0.40.6 applies them, their speed on
hostile input, and Go's ``strconv.Quote``."""

from __future__ import annotations

import time

from pbk_sdk.formats import go_quote, is_email, is_url

URLS_VALID = [
    "example.com", "http://x", "https://example.com/p?q=1", "ftp://x.org", "http://localhost:8090",
    "mailto:a@b.co", "http://127.0.0.1", "http://ex_ample.com", "https://ünïcode.de",
    "http://example.com:99999", "ws://x.com", "tcp://x.com", "wss://a.io", "http://EXAMPLE.com",
    "http://[::1]:80", "http://[::1]", "http://a_b.com", "http://example.com.", "http://www.ex.com",
    "udp://1.1.1.1", "http://a", "http://user:pw@x.com/p", "x.com:8080", "http://a-b--c.com",
    "http://ünï.de/ä", "http://x.com/path?q#f",
]
URLS_INVALID = [
    "javascript:alert(1)", "http://", "http://exa mple.com", "HTTPS://EXAMPLE.COM", "//example.com",
    "http://a.b.c/", "x://y.z", "http://1.2.3.256", "http://224.1.1.1", "http://-a.com",
    "http://a-.com", "abc", "a.b", "ab", "http://x.com/%zz", "http://x.com:abc", "http://x.com:",
    "http://x.com/a b", "http://x.com?q= 1", "http://x.com#f g", ".x.com", "http://.x.com", "a:1",
    "http://x.com:123456", "http://x..com", "http://a.b-c.d", "http://a.b_c.de", "http://x.com/\t",
    "http://x.com\\a", "http://x.c0m", "http://1.1.1", "file:///etc/passwd", "http:/x.com",
    "http://x%41.com", "http://x.com/" + "a" * 2100,
]
EMAILS_VALID = [
    "A@B.co", "a@b.c", '"a"@b.co', "a+b@c.co", "ä@ö.de",
    # govalidator's quoted local part: ``"`` before each character, folding space after it
    '"@b.co', '"a"b"@b.co', '"a"."b"@b.co', '" a "@b.co', '"(""@b.co', '"a\r\n "@b.co',
]
EMAILS_INVALID = [
    "a@b", "not-an-email", "a b@c.co", " a@b.co", "a@b.co ", "a@@b.co", "a@b..co", "a@-b.co",
    "a@localhost", "a@[127.0.0.1]", "a@1.2.3.4", "a@b.co\n",
    '"ab"@b.co', '"a b"@b.co', '"a@b"@b.co', '""@b.co', '" "@b.co', '"(é"@b.co', '"a""b"@b.co',
]


def test_url_and_email_formats() -> None:
    assert [u for u in URLS_VALID if not is_url(u)] == []
    assert [u for u in URLS_INVALID if is_url(u)] == []
    assert [e for e in EMAILS_VALID if not is_email(e)] == []
    assert [e for e in EMAILS_INVALID if is_email(e)] == []


def test_hostile_inputs_stay_fast() -> None:
    start = time.perf_counter()
    for value in ("http://" + "a" * 2000 + "!", "http://" + "a." * 1000 + "!", "http://" + "a-" * 1000 + "!", "http://" + "@" * 2000):
        assert not is_url(value)
    assert not is_email("a@" + "a." * 5000 + "!")
    assert not is_email("a" * 5000 + "@")
    assert not is_email('"' + " " * 5000 + "@b.co")
    assert not is_email('"(' * 3000 + "@b.co")
    assert not is_email('" ' * 3000 + "@b.co")
    assert time.perf_counter() - start < 3


def test_go_quote() -> None:
    assert go_quote('a"b\\c') == '"a\\"b\\\\c"'
    assert go_quote("\t\n\x00\x7f") == '"\\t\\n\\x00\\x7f"'
    assert go_quote("é€😀") == '"é€😀"'
    assert go_quote("\u0085\u200b\U000e0001") == '"\\u0085\\u200b\\U000e0001"'
    assert go_quote("\ud800") == '"\ufffd"'
