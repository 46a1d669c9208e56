"""A failed automatic backup mails every superuser a system alert, as PocketBase does."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from backups_testing import PLUGINS
from pbk_backups.service import BACKUPS
from pbk_sdk.interfaces import RECORD_STORE

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "mailer" / "tests"))  # smtp_server

from smtp_server import SmtpServer, parts


@pytest.fixture
def pbk_plugins() -> list[str]:
    return [*PLUGINS, "mailer"]


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer().start()
    yield server
    server.stop()


async def test_a_failed_auto_backup_alerts_every_superuser(pbk_app: Any, smtp: SmtpServer) -> None:
    await pbk_app.settings.update(smtp.settings())
    store = pbk_app.services.get(RECORD_STORE)
    for email in ("root@example.com", "ops@example.com"):
        await store.create(store.collection("_superusers"), {"email": email, "password": "1234567890"})
    (pbk_app.data_dir / "backups").write_text("a file where the backups folder should be")
    await pbk_app.state[BACKUPS].auto_backup()
    mails = smtp.inbox.wait(2)
    assert sorted(mail["To"] for mail in mails) == ["ops@example.com", "root@example.com"]
    for mail in mails:
        assert mail["Subject"] == "[Acme Test system alert] Autobackup failure"
        assert mail["From"] == "Acme Support <support@app.test>"
        html, _ = parts(mail)
        assert "@auto_pb_backup_acme_test_" in html and "could not be made or stored" in html
