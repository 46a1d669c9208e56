"""SQL console tests: records + auth + sql on a temp data dir."""

from __future__ import annotations

import pytest


@pytest.fixture
def pbk_plugins() -> list[str]:
    return ["records", "auth", "sql"]
