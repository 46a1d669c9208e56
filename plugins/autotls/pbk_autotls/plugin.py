"""The autotls plugin: the ``acme`` TLS certificate provider that ``pbk serve DOMAIN...`` and
``--https`` serve with, as PocketBase's autocert set-up (see ``provider.py``).

autotls is a default plugin, loaded by every ``pbk serve``: the ACME client and the X.509
code it needs are imported only when HTTPS is served, when the kernel asks for the provider."""

from __future__ import annotations

from typing import Any

from pbk_sdk import PluginInfo, hookimpl
from pbk_sdk.interfaces import App

PLUGIN = PluginInfo(
    name="autotls",
    description="Certificates for `pbk serve DOMAIN...` over ACME (Let's Encrypt), cached as PocketBase caches them.",
)


def acme_certificates(app: App) -> Any:
    """The provider for ``app``: ``provider.AcmeCertificates``, imported now."""
    from .provider import AcmeCertificates

    return AcmeCertificates(app)


@hookimpl
def pbk_register_tls_certificates(app: App) -> dict[str, Any]:
    return {"acme": acme_certificates}
