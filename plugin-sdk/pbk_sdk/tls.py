"""TLS for the kernel's HTTPS listener and certificate providers alike: server contexts, the
names certificates are for, the http-01 validation path."""

from __future__ import annotations

import ipaddress
import re
import ssl


def server_context() -> ssl.SSLContext:
    """A server-side context with PocketBase's floor (TLS 1.2) that offers HTTP/1.1 over ALPN
    (pbk speaks no HTTP/2); a provider loads a certificate chain into it."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.set_alpn_protocols(["http/1.1"])
    return context


#: Where ACME http-01 validation requests ask for a token's answer (RFC 8555 §8.3).
CHALLENGE_PREFIX = "/.well-known/acme-challenge/"
#: A host name's label in ASCII (IDNA) form: letters, digits, '-' inside, '_' as CAs allow.
_LABEL = re.compile(r"[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?")


def certificate_name(name: str) -> str:
    """``name`` as certificates are obtained and served for it: lower case, ASCII (IDNA, as
    autocert's host whitelist converts it), without a trailing dot; ValueError when it cannot
    have a certificate (an IP address, a wildcard, an empty label, a single label)."""
    stripped = name.strip().rstrip(".")
    try:
        ipaddress.ip_address(stripped.strip("[]"))
    except ValueError:
        pass
    else:
        raise ValueError(f"cannot obtain a certificate for {name!r}: an IP address, not a domain name")
    try:
        ascii_name = stripped.encode("idna").decode("ascii").lower()
    except UnicodeError:
        ascii_name = ""
    labels = ascii_name.split(".")
    if len(labels) < 2 or len(ascii_name) > 253 or not all(_LABEL.fullmatch(label) for label in labels):
        raise ValueError(f"cannot obtain a certificate for {name!r}: not a domain name (such as example.com)")
    return ascii_name
