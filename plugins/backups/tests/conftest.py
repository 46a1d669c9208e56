"""Backups tests: the plugin with what it requires, the settings API, on a temp data dir."""

from __future__ import annotations

import pytest
from backups_testing import PLUGINS


@pytest.fixture
def pbk_plugins() -> list[str]:
    return PLUGINS
