"""When a certificate is renewed: autocert's 30 days before expiry, a third of a shorter life."""

from __future__ import annotations

import ssl
from datetime import UTC, datetime, timedelta

import pytest
from pbk_autotls.cache import Certificate
from pbk_autotls.provider import renewal_due

NOW = datetime(2026, 6, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("lifetime_days", "left_days", "due"),
    [
        (90, 31, False),
        (90, 29, True),
        (365, 31, False),
        (365, 30, True),
        (6, 2.1, False),  # Let's Encrypt's short-lived certificates: renewed with 2 days left
        (6, 1.9, True),
    ],
)
def test_renewal_due(lifetime_days, left_days, due):
    not_after = NOW + timedelta(days=left_days)
    certificate = Certificate(ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER), not_after - timedelta(days=lifetime_days), not_after)
    assert renewal_due(certificate, NOW) is due
