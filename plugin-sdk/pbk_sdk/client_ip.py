"""Who the client is, by address: PocketBase's ``RealIP`` and its IP allow-lists.

A request's address is the socket peer's unless the ``trustedProxy.headers`` setting names
headers that a proxy in front of pbk sets: then the first of them present wins, and of its
comma-separated list the rightmost valid IP (the one the nearest proxy appended) or, with
``trustedProxy.useLeftmostIP``, the leftmost. A client can therefore never pick its own
address unless the admin trusts a header. Every IP is returned as PocketBase writes it: IPv4
dotted, IPv6 in full (``2001:0db8:0000:...:0001``), so rate limit keys, logs and login alerts
agree with PocketBase's.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from .interfaces import App

__all__ = ["ip_in_list", "normalize_ip", "real_ip", "remote_ip", "superuser_ip_allowed"]


@lru_cache(maxsize=4096)
def normalize_ip(text: str) -> str:
    """``text`` as PocketBase prints a parsed address, or ``""`` when it is not an IP."""
    try:
        address = ipaddress.ip_address(text.strip())
    except ValueError:
        return ""
    return address.exploded if address.version == 6 else str(address)


def remote_ip(req: Any) -> str:
    """The socket peer's address (the last proxy's, behind one): falcon's ``remote_addr``,
    read from the ASGI scope's ``(host, port)`` without working out the whole access route."""
    client = getattr(req, "scope", {}).get("client")
    if type(client) is tuple and len(client) == 2 and client[0]:  # as uvicorn gives it
        return normalize_ip(str(client[0]))
    # Any other iterable may be read only once (falcon's remote_addr reads and keeps it).
    return normalize_ip(str(getattr(req, "remote_addr", "") or ""))


def real_ip(app: App, req: Any) -> str:
    """The client's address, from the trusted proxy headers when the settings name any."""
    headers = app.settings.get("trustedProxy.headers")
    if headers:
        leftmost = bool(app.settings.get("trustedProxy.useLeftmostIP"))
        for name in headers:
            found = _ip_from_header(req, name, leftmost) if isinstance(name, str) else ""
            if found:
                return found
    return remote_ip(req)


def _ip_from_header(req: Any, name: str, leftmost: bool) -> str:
    value = _last_header(req, name)
    if not value:
        return ""
    candidates = value.split(",")
    for candidate in candidates if leftmost else reversed(candidates):
        found = normalize_ip(candidate)
        if found:
            return found
    return ""


def _last_header(req: Any, name: str) -> str:
    """A header sent several times counts by its last line, the nearest proxy's (falcon's
    ``get_header`` would join them all)."""
    scope = getattr(req, "scope", None)
    if scope is None:
        return str(req.get_header(name) or "")
    wanted, found = name.lower().encode("latin-1", "replace"), b""
    for key, value in scope.get("headers", ()):
        if key.lower() == wanted:
            found = value
    return found.decode("latin-1")


@lru_cache(maxsize=256)
def _networks(entries: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    found = []
    for entry in entries:
        try:
            found.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError:
            continue  # PocketBase skips what it cannot parse
    return tuple(found)


def ip_in_list(entries: Iterable[Any], ip: str) -> bool:
    """Whether ``ip`` is one of ``entries`` (single IPs and CIDR subnets, v4 and v6)."""
    if not ip:
        return False
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return False
    return any(address in network for network in _networks(tuple(e for e in entries if isinstance(e, str))))


def superuser_ip_allowed(app: App, req: Any) -> bool:
    """Whether a superuser may act from this request's address (``superuserIPs``; empty
    allows every address)."""
    allowed = app.settings.get("superuserIPs")
    return not allowed or ip_in_list(allowed, real_ip(app, req))
