"""TLS server contexts made alike by the kernel's HTTPS listener and certificate providers."""

from __future__ import annotations

import ssl


def server_context() -> ssl.SSLContext:
    """A server-side context with PocketBase's floor (TLS 1.2) that offers HTTP/1.1 over ALPN
    (pbk speaks no HTTP/2); a provider loads a certificate chain into it."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.set_alpn_protocols(["http/1.1"])
    return context
