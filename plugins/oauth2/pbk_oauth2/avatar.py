"""Downloading an OAuth2 user's avatar into the collection's file field, as PocketBase's
``safeFileFromURL``: only from globally reachable addresses (``is_public``), so a provider
cannot make pbk probe the internal network,
at most 10 redirects each checked again, at most 32 MiB, 10 seconds for the whole download
(redirects included, so a server dripping bytes cannot hold the sign-in open).

The host is resolved once and the connection made to the checked address (with the name kept
for the ``Host`` header and TLS), so a DNS answer that changes between check and connect
(rebinding) cannot slip an internal address in.
"""

from __future__ import annotations

import asyncio
import ipaddress
import posixpath
import socket
import tempfile
from typing import TYPE_CHECKING
from urllib.parse import urljoin, urlsplit, urlunsplit

from pbk_sdk.body import UploadedFile

if TYPE_CHECKING:
    import httpx

MAX_BYTES = 32 << 20
MAX_REDIRECTS = 10
TIMEOUT_SECONDS = 10.0


class AvatarError(Exception):
    """The avatar could not be downloaded (the sign-in goes on without it, as in PocketBase)."""


NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


def is_public(address: str) -> bool:
    """Whether ``address`` is globally reachable (stricter than PocketBase: shared 100.64/10,
    documentation and reserved ranges are refused too); an IPv6 form carrying an IPv4 address
    (mapped, IPv4-compatible, 6to4, NAT64) is judged by that IPv4 address."""
    ip = embedded_ipv4(ipaddress.ip_address(address))
    return ip.is_global and not ip.is_multicast


IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def embedded_ipv4(ip: IPAddress) -> IPAddress:
    if isinstance(ip, ipaddress.IPv4Address):
        return ip
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in NAT64 or int(ip) >> 32 == 0:  # NAT64, IPv4-compatible (``::``, ``::1`` included)
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return ip


async def public_address(host: str, port: int) -> str:
    """The first address ``host`` resolves to, if every one of them is public."""
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as error:
        raise AvatarError(f"cannot resolve {host}: {error}") from error
    addresses = [str(info[4][0]) for info in infos]
    if not addresses or not all(is_public(address) for address in addresses):
        raise AvatarError(f"address of {host} is invalid or resolves to a disallowed IP")
    return addresses[0]


async def download_avatar(url: str) -> UploadedFile:
    """The file at ``url``, within ``TIMEOUT_SECONDS`` in all; raises ``AvatarError``."""
    import httpx  # here, not at start: see the providers' client in state.py

    try:
        async with asyncio.timeout(TIMEOUT_SECONDS), \
                httpx.AsyncClient(timeout=TIMEOUT_SECONDS, follow_redirects=False) as http:
            for _ in range(MAX_REDIRECTS + 1):
                response, content = await _get_checked(http, url)
                if response.is_redirect and "location" in response.headers:
                    url = urljoin(url, response.headers["location"])
                    continue
                if not 200 <= response.status_code <= 399:
                    raise AvatarError(f"failed to download url {url} ({response.status_code})")
                return _as_upload(url, response, content)
    except TimeoutError as error:
        raise AvatarError(f"downloading {url} took more than {TIMEOUT_SECONDS} seconds") from error
    raise AvatarError(f"too many redirects from {url}")


async def _get_checked(http: httpx.AsyncClient, url: str) -> tuple[httpx.Response, bytes]:
    """The answer to a GET of ``url`` from a checked address, and its body (cut at MAX_BYTES)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise AvatarError(f"not an http(s) URL: {url}")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    address = await public_address(parts.hostname, port)
    netloc = f"[{address}]:{port}" if ":" in address else f"{address}:{port}"
    import httpx

    request = http.build_request("GET", urlunsplit(parts._replace(netloc=netloc)),
                                 headers={"Host": parts.netloc.rpartition("@")[2]},
                                 extensions={"sni_hostname": parts.hostname})
    try:
        response = await http.send(request, stream=True)
        try:
            chunks, size = [], 0
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > MAX_BYTES:
                    break
                chunks.append(chunk)
        finally:
            await response.aclose()
    except httpx.HTTPError as error:
        raise AvatarError(f"failed to download {url}: {error}") from error
    return response, b"".join(chunks)


def _as_upload(url: str, response: httpx.Response, content: bytes) -> UploadedFile:
    spool = tempfile.SpooledTemporaryFile(max_size=1 << 20)  # noqa: SIM115 - closed with the upload
    spool.write(content)
    spool.seek(0)
    name = posixpath.basename(urlsplit(url).path) or "avatar"
    content_type = response.headers.get("content-type", "").split(";")[0].strip()
    return UploadedFile(filename=name, content_type=content_type, size=len(content), file=spool)
