"""The installer superuser of a first start, made once however many nodes ask at once."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from pbk_auth.installer import INSTALLER_EMAIL, installer_link
from pbk_sdk.auth import SUPERUSERS


@pytest.fixture
def pbk_plugins() -> list[str]:
    return ["records", "auth"]


async def test_two_starts_at_once_share_one_installer(pbk_app: Any) -> None:
    # Both look for the installer before either makes it, as two nodes starting together on an
    # empty database do: the second one's create meets the unique email and takes the first's.
    links = await asyncio.gather(*(installer_link(pbk_app, "http://127.0.0.1:8090") for _ in range(2)))
    assert all(link and "/_/#/pbinstall/" in link for link in links)
    store = pbk_app.services.get("record_store")
    superusers = store.collection(SUPERUSERS)
    assert await store.count(superusers) == 1
    assert (await store.find(superusers, "email", INSTALLER_EMAIL)) is not None
