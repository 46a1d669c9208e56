"""The autotls plugin: the ``acme`` TLS certificate provider that ``pbk serve DOMAIN...`` and
``--https`` serve with, as PocketBase's autocert set-up (see ``provider.py``)."""

from __future__ import annotations

from typing import Any

from pbk_sdk import PluginInfo, hookimpl
from pbk_sdk.interfaces import App

from .provider import AcmeCertificates

PLUGIN = PluginInfo(
    name="autotls",
    description="Certificates for `pbk serve DOMAIN...` over ACME (Let's Encrypt), cached as PocketBase caches them.",
)


@hookimpl
def pbk_register_tls_certificates(app: App) -> dict[str, Any]:
    return {"acme": AcmeCertificates}
