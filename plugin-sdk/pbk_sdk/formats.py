"""The string formats PocketBase checks with ozzo-validation's ``is`` rules, as govalidator
decides them: ``is.EmailFormat`` (``is_email``), ``is.URL`` (``is_url``), ``is.Host``
(``is_host``: an IP address or a DNS name), ``is.HexColor`` (``is_hex_color``), ``is.Domain``
(``is_domain``), and Go's ``url.Parse`` and ``net.ParseIP`` beneath them; and Go's
``strconv.Quote`` (``go_quote``), with which PocketBase's messages quote a value.

The regular expressions are rewritten so that Python's backtracking stays linear on
hostile input; they accept and refuse what the originals do.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from collections.abc import Callable


def _lazy(source: str) -> Callable[[], re.Pattern[str]]:
    """A pattern compiled on first use: the Unicode-range ones cost ~25 ms together, which
    every start-up paid at import."""
    return functools.cache(lambda: re.compile(source))


_U = "\\u00A0-\\uD7FF\\uF900-\\uFDCF\\uFDF0-\\uFFEF"
_FOLDING_SPACE = r"(?:(?:[ \t]*\r\n)?[ \t]+)"
# govalidator.IsEmail: the local part as its regexp has it. A quoted local part is not
# RFC 5322's: the regexp repeats the opening quote with each character, so it is a run of
# ``"`` + one character (a ``(`` may take the next one with it), then ``"``, with optional
# folding white space after each quote: ``"a"`` and ``"a"b"`` are valid, ``"ab"`` is not
# (checked on PocketBase 0.40.6).
_EMAIL_LOCAL = _lazy(
    rf"[a-zA-Z0-9!#$%&'*+\-/=?^_`{{|}}~{_U}]+(?:\.[a-zA-Z0-9!#$%&'*+\-/=?^_`{{|}}~{_U}]+)*"
    rf"|(?:\"{_FOLDING_SPACE}?"
    rf"(?:[\x01-\x08\x0b\x0c\x0e-\x1f\x7f\x21\x23-\x5b\x5d-\x7e{_U}]"
    rf"|\([\x01-\x09\x0b\x0c\x0d-\x7f]|[{_U}]))*{_FOLDING_SPACE}?\""
)
_EMAIL_ALNUM = _lazy(rf"[a-zA-Z0-9{_U}]")
_EMAIL_ALPHA = _lazy(rf"[a-zA-Z{_U}]")
_EMAIL_INNER = _lazy(rf"[a-zA-Z0-9\-._~{_U}]*")


def _email_domain_ok(domain: str) -> bool:
    """The domain part of govalidator's email regexp, decided in linear time: labels (any
    run of ``[alnum-._~]`` starting and ending with alnum) ``.`` a TLD (starting and ending
    with a letter), with an optional final dot."""
    candidates = [domain]
    if domain.endswith("."):
        candidates.append(domain[:-1])
    for d in candidates:
        if not d or not _EMAIL_INNER().fullmatch(d):
            continue
        if not _EMAIL_ALNUM().fullmatch(d[0]) or not _EMAIL_ALPHA().fullmatch(d[-1]):
            continue
        for i, ch in enumerate(d):
            if ch != "." or i == 0 or i == len(d) - 1:
                continue
            if _EMAIL_ALNUM().fullmatch(d[i - 1]) and _EMAIL_ALPHA().fullmatch(d[i + 1]):
                return True
    return False


def is_email(value: str) -> bool:
    """``govalidator.IsEmail`` (what ``is.EmailFormat`` uses)."""
    at = value.rfind("@")
    if at < 0:
        return False
    return bool(_EMAIL_LOCAL().fullmatch(value[:at])) and _email_domain_ok(value[at + 1:])


_NS = r"[^\t\n\f\r ]"  # Go's \S
_IPV4_OCTET = r"(?:25[0-5]|(?:2[0-4]|1?[0-9])?[0-9])"
_H = r"[0-9a-fA-F]{1,4}"
_IP = (
    rf"(?:(?:{_H}:){{7}}{_H}|(?:{_H}:){{1,7}}:|(?:{_H}:){{1,6}}:{_H}|(?:{_H}:){{1,5}}(?::{_H}){{1,2}}"
    rf"|(?:{_H}:){{1,4}}(?::{_H}){{1,3}}|(?:{_H}:){{1,3}}(?::{_H}){{1,4}}|(?:{_H}:){{1,2}}(?::{_H}){{1,5}}"
    rf"|{_H}:(?:(?::{_H}){{1,6}})|:(?:(?::{_H}){{1,7}}|:)|fe80:(?::[0-9a-fA-F]{{0,4}}){{0,4}}%[0-9a-zA-Z]+"
    rf"|::(?:ffff(?::0{{1,4}})?:)?(?:{_IPV4_OCTET}\.){{3}}{_IPV4_OCTET}"
    rf"|(?:{_H}:){{1,4}}:(?:{_IPV4_OCTET}\.){{3}}{_IPV4_OCTET})"
)
_URL_IP = (
    r"(?:[1-9][0-9]?|1[0-9][0-9]|2[01][0-9]|22[0-3]|24[0-9]|25[0-5])"
    r"(?:\.(?:[0-9]{1,2}|1[0-9][0-9]|2[0-4][0-9]|25[0-5])){2}"
    r"(?:\.(?:[0-9][0-9]?|1[0-9][0-9]|2[0-4][0-9]|25[0-5]))"
)
_A = "a-zA-Z0-9"
_HOSTCHAR = "[a-zA-Z\u00a1-\uffff0-9]"
# govalidator's URL regexp, with its ambiguous sub-patterns rewritten to equivalent
# less ambiguous ones so that Python's backtracking cannot go exponential:
#   [A]+([-_.]?[A])*[A]   ->  [A]([-_.]?[A])*[A]
#   ([H]+-?-?)*[H]+       ->  [H]+(--?[H]+)*
_URL = _lazy(
    r"(?:(?:ftp|tcp|udp|wss?|https?)://)?"
    rf"(?:{_NS}+(?::{_NS}*)?@)?"
    rf"(?:{_URL_IP}|\[{_IP}\]"
    rf"|(?:[{_A}](?:[{_A}\-_]+)?[{_A}](?:[\-.][{_A}]+)*|(?:www\.|[{_A}](?:[\-_.]?[{_A}])*[{_A}]\.[{_A}]+)?)?"
    rf"{_HOSTCHAR}+(?:--?{_HOSTCHAR}+)*(?:\.[a-zA-Z\u00a1-\uffff]+)?)"
    r"\.?(?::[0-9]{1,5})?(?:[/?#][^\t\n\f\r ]*)?"
)
_HEX = "0123456789abcdefABCDEF"
_HOST_OK = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.~!$&'()*+,;=:[]<>\"")
_USERINFO_OK = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._:~!$&'()*+,;=%@")


def _escapes_ok(text: str, host: bool = False) -> bool:
    i = 0
    while i < len(text):
        if text[i] == "%":
            pair = text[i + 1:i + 3]
            if len(pair) < 2 or pair[0] not in _HEX or pair[1] not in _HEX:
                return False
            if host and int(pair[0], 16) < 8 and pair != "25":
                return False
            i += 3
            continue
        if host and text[i].isascii() and text[i] not in _HOST_OK:
            return False
        i += 1
    return True


def go_url_parse(raw: str) -> tuple[str, str, str] | None:
    """Go's ``url.Parse``: (scheme, host, path), or None where Go returns an error."""
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in raw):
        return None
    rest, hash_sign, fragment = raw.partition("#")
    if hash_sign and not _escapes_ok(fragment):
        return None
    scheme = ""
    for i, c in enumerate(rest):
        if c.isascii() and c.isalpha():
            continue
        if c.isascii() and (c.isdigit() or c in "+-."):
            if i == 0:
                break
            continue
        if c == ":":
            if i == 0:
                return None  # missing protocol scheme
            scheme, rest = rest[:i].lower(), rest[i + 1:]
        break
    if "?" in rest:
        rest = rest.partition("?")[0]
    if not rest.startswith("/"):
        if scheme:
            return scheme, "", ""  # opaque
        if ":" in rest.partition("/")[0]:
            return None  # first path segment in URL cannot contain colon
    host = ""
    if (scheme or not rest.startswith("///")) and rest.startswith("//"):
        authority, slash, path = rest[2:].partition("/")
        rest = slash + path
        userinfo, at, host = authority.rpartition("@")
        if at and not (all(c in _USERINFO_OK for c in userinfo) and _escapes_ok(userinfo)):
            return None
        if host.startswith("["):
            close = host.rfind("]")
            if close < 0:
                return None
            port = host[close + 1:]
            if port and (port[0] != ":" or (port[1:] and not (port[1:].isascii() and port[1:].isdigit()))):
                return None
        elif ":" in host:
            port = host[host.rfind(":"):]
            if port[1:] and not (port[1:].isascii() and port[1:].isdigit()):
                return None
        if not host.startswith("[") and not _escapes_ok(host, host=True):
            return None
    if not _escapes_ok(rest):
        return None
    return scheme, host, rest


def is_url(value: str) -> bool:
    """``govalidator.IsURL`` (what ``is.URL`` uses)."""
    if not value or len(value) >= 2083 or value.startswith("."):
        return False
    if len(value.encode("utf-8", "surrogatepass")) <= 3:
        return False
    probe = value
    if ":" in value and "://" not in value:
        probe = "http://" + value
    parsed = go_url_parse(probe)
    if parsed is None:
        return False
    _, host, path = parsed
    if host.startswith("."):
        return False
    if host == "" and path != "" and "." not in path:
        return False
    return _URL().fullmatch(value) is not None


_DNS_NAME = re.compile(r"[a-zA-Z0-9_][a-zA-Z0-9_-]{0,62}(?:\.[a-zA-Z0-9_][a-zA-Z0-9_-]{0,62})*[._]?")
_HEX_COLOR = re.compile(r"#?(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})")


def is_ip(value: str) -> bool:
    """Go's ``net.ParseIP`` accepts it: dotted IPv4 (no leading zeros) or IPv6 without a zone."""
    if "%" in value or not value.isascii():
        return False
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def is_dns_name(value: str) -> bool:
    """``govalidator.IsDNSName``: labels of letters, digits, ``_`` and ``-`` (not first), at most
    63 characters each and 255 in all, an optional final ``.`` or ``_``; not an IP address."""
    if not value or len(value.replace(".", "")) > 255:
        return False
    return not is_ip(value) and _DNS_NAME.fullmatch(value) is not None


def is_host(value: str) -> bool:
    """``is.Host``: an IP address or a DNS name."""
    return is_ip(value) or is_dns_name(value)


def is_hex_color(value: str) -> bool:
    """``is.HexColor``: ``#`` (optional) and 3 or 6 hex digits."""
    return _HEX_COLOR.fullmatch(value) is not None


_DOMAIN = re.compile(
    r"(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-z0-9])?\.)+(?:[a-zA-Z]{1,63}| xn--[a-z0-9]{1,59})"
)


def is_domain(value: str) -> bool:
    """ozzo-validation's ``is.Domain`` as PocketBase 0.40 has it: a label's last character
    must be lowercase or a digit (``Bad.com`` is valid, ``OK.com`` is not) and punycode TLDs
    only match with a leading space (`` xn--``)."""
    return len(value) <= 255 and _DOMAIN.fullmatch(value) is not None


_GO_ESCAPES = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t",
               "\v": "\\v", "\\": "\\\\", '"': '\\"'}


def go_quote(text: str) -> str:
    """Go's ``strconv.Quote`` (``%q``): printable characters as they are, the rest escaped.
    Lone surrogates are U+FFFD, as Go's JSON decoding makes them."""
    out = ['"']
    for char in text:
        code = ord(char)
        if 0xD800 <= code <= 0xDFFF:
            char, code = "\ufffd", 0xFFFD
        if char in _GO_ESCAPES:
            out.append(_GO_ESCAPES[char])
        elif char.isprintable():
            out.append(char)
        elif code < 0x80:
            out.append(f"\\x{code:02x}")
        elif code < 0x10000:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    out.append('"')
    return "".join(out)
