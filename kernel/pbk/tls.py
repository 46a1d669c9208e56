"""``pbk serve DOMAIN...`` / ``--https``: HTTPS with certificates from a provider plugin, and the
HTTP listener beside it, as PocketBase sets them up with Go's autocert.

- The names served are the domains given, plus a ``www.`` name for each that is not one; a
  request for such an implicit ``www.`` name is redirected (307) to the name without it.
  Without domains, the host of the HTTPS address and its ``www.`` name are served, obtained
  when a client first asks for them, as autocert obtains them; an IP address or no host (the
  usual ``--https 0.0.0.0:443``) has no certificate, as with PocketBase (clients never send
  an IP address as the server name).
- Every TLS handshake asks the provider (``pbk_sdk.interfaces.TlsCertificates``) for the
  context of the name the client sent (SNI), so a renewed certificate is served at once. A
  name without a certificate (not served, or not obtained yet) fails the handshake.
- The HTTP listener answers ACME http-01 validation requests through the provider and
  redirects everything else to HTTPS: GET and HEAD with 302 to ``https://host`` (port 443 when
  the request named a port), other methods with 400 ``Use HTTPS``, in autocert's words.
"""

from __future__ import annotations

import logging
import ssl
import sys
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any

from pbk_sdk.interfaces import TLS_CERTIFICATES, TlsCertificates
from pbk_sdk.tls import CHALLENGE_PREFIX, certificate_name, server_context

from .config import Config, parse_address

log = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[..., Awaitable[None]]

#: Go's html.EscapeString, which http.Redirect applies to the link in its body.
_GO_HTML_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&#34;", "'": "&#39;"})


@dataclass(frozen=True)
class CertificateNames:
    """The names certificates are served for: obtained at start, or when first asked for."""

    domains: tuple[str, ...]
    on_demand: tuple[str, ...]
    www_redirects: tuple[str, ...]

    def __contains__(self, name: str) -> bool:
        return name in self.domains or name in self.on_demand


def certificate_names(config: Config) -> CertificateNames:
    """PocketBase's host whitelist: the domains (else the HTTPS address's host, when it is a
    domain name), each non-www one also with ``www.`` in front unless that is listed too."""
    domains = tuple(dict.fromkeys(certificate_name(domain) for domain in config.domains))
    hosts = domains or _address_host(config.https)
    www = tuple(dict.fromkeys(f"www.{d}" for d in hosts if not d.startswith("www.") and f"www.{d}" not in hosts))
    if domains:
        return CertificateNames(domains, www, www)
    return CertificateNames((), hosts + www, www)


def _address_host(address: str) -> tuple[str, ...]:
    try:
        return (certificate_name(parse_address(address, "--https")[0]),)
    except ValueError:  # an IP address or none: PocketBase's policy allows it, no client asks for it
        return ()


def base_url(config: Config) -> str:
    """The URL the start banner shows: PocketBase's, the first domain's when serving HTTPS."""
    if not config.https:
        return f"http://{config.http}"
    return f"https://{config.domains[0] if config.domains else config.https}"


def check_provider(app: Any) -> None:
    """Refuse, before anything listens, to serve HTTPS without a certificate provider."""
    providers = app.services.providers(TLS_CERTIFICATES)
    if len(providers) != 1:
        found = ", ".join(sorted(providers)) or "none is loaded"
        raise ValueError(
            f"serving HTTPS needs exactly one TLS certificate provider plugin (pbk-autotls); {found}"
        )


class TlsServing:
    """One worker's HTTPS: the SNI-driven context, the HTTP listener's app, the www redirect."""

    def __init__(self, app: Any) -> None:
        self.names = certificate_names(app.config)
        self.provider: TlsCertificates = app.services.get(TLS_CERTIFICATES)

    async def start(self) -> None:
        await self.provider.start(self.names.domains, on_demand=self.names.on_demand)

    async def stop(self) -> None:
        await self.provider.stop()

    def context(self) -> ssl.SSLContext:
        """The listener's context: every handshake switches to the provider's for its name."""
        context = server_context()
        context.sni_callback = self._choose_certificate
        _quiet_non_ascii_server_names()
        return context

    def _choose_certificate(self, connection: Any, server_name: str | None, _: ssl.SSLContext) -> int | None:
        name = (server_name or "").lower().rstrip(".")
        chosen = self.provider.server_context(name) if name in self.names else None
        if chosen is None:
            log.debug("TLS handshake refused: no certificate for server name %r", server_name)
            return ssl.ALERT_DESCRIPTION_UNRECOGNIZED_NAME
        connection.context = chosen
        return None

    def redirect_www(self, asgi: ASGIApp) -> ASGIApp:
        """``asgi`` behind PocketBase's implicit redirect of ``www.`` names to the name."""
        redirects = {name.encode() for name in self.names.www_redirects}

        async def app(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] == "http":
                host = _header(scope, b"host")
                if host in redirects:
                    target = f"{scope['scheme']}://{host[4:].decode()}{_request_uri(scope)}"
                    await _respond(send, 307, b"", [(b"location", target.encode())])
                    return
            await asgi(scope, receive, send)

        return app

    async def http_listener(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The HTTP listener's app: http-01 answers, else the way to HTTPS."""
        if scope["type"] != "http":
            return
        host = _header(scope, b"host").decode("latin-1")
        if scope["path"].startswith(CHALLENGE_PREFIX):
            await self._answer_challenge(scope, host, send)
        elif scope["method"] not in ("GET", "HEAD"):
            await _respond_text(send, 400, "Use HTTPS")
        else:
            target = f"https://{_port_443(host)}{_request_uri(scope)}"
            body = b"" if scope["method"] == "HEAD" else f'<a href="{target.translate(_GO_HTML_ESCAPES)}">Found</a>.\n\n'.encode()
            await _respond(send, 302, body, [(b"location", target.encode()), (b"content-type", b"text/html; charset=utf-8")])

    async def _answer_challenge(self, scope: Scope, host: str, send: Send) -> None:
        # NOTE: autocert checks the Host header as sent, port included, so PocketBase answers
        # validation on port 80 only; here the name is checked, so a CA (or a test CA such as
        # pebble) may validate on another port too.
        if _without_port(host).lower() not in self.names:
            await _respond_text(send, 403, f'acme/autocert: host "{host}" not configured in HostWhitelist')
            return
        answer = await self.provider.http_challenge(scope["path"])
        if answer is None:
            await _respond_text(send, 404, "acme/autocert: certificate cache miss")
        else:
            await _respond(send, 200, answer, [(b"content-type", b"text/plain; charset=utf-8")])


def _quiet_non_ascii_server_names() -> None:
    """CPython reports a server name that is not ASCII, which it cannot hand to the SNI
    callback, as an unraisable exception, a traceback on stderr per handshake that anyone can
    send: make that one debug line (the handshake fails either way). Other unraisable
    exceptions go to the hook that was installed."""
    previous = sys.unraisablehook
    if getattr(previous, "_pbk_server_names", False):
        return

    def hook(unraisable: Any) -> None:
        error = unraisable.exc_value
        if isinstance(error, UnicodeDecodeError) and isinstance(unraisable.object, bytes) \
                and error.object == unraisable.object:
            log.debug("TLS handshake refused: server name %r is not ASCII", unraisable.object)
            return
        previous(unraisable)

    hook._pbk_server_names = True  # type: ignore[attr-defined]
    sys.unraisablehook = hook


def _header(scope: Scope, name: bytes) -> bytes:
    return next((value for key, value in scope["headers"] if key == name), b"")


def _request_uri(scope: Scope) -> str:
    path: bytes = scope.get("raw_path") or scope["path"].encode()
    query: bytes = scope["query_string"]
    return (path + (b"?" + query if query else b"")).decode("latin-1")


def _without_port(host: str) -> str:
    if host.startswith("["):
        return host[1:].partition("]")[0]
    name, colon, _ = host.rpartition(":")
    return name if colon and ":" not in name else host


def _port_443(host: str) -> str:
    """autocert's redirect target: the host, with port 443 if the request named any port."""
    if host.startswith("["):
        name, bracket, rest = host[1:].partition("]")
        return f"[{name}]:443" if bracket and rest.startswith(":") else host
    name, colon, _ = host.rpartition(":")
    return f"{name}:443" if colon and ":" not in name else host


async def _respond_text(send: Send, status: int, message: str) -> None:
    """Go's http.Error: the message and a newline, as plain text, never sniffed."""
    await _respond(send, status, f"{message}\n".encode(), [
        (b"content-type", b"text/plain; charset=utf-8"), (b"x-content-type-options", b"nosniff"),
    ])


async def _respond(send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]]) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [*headers, (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
