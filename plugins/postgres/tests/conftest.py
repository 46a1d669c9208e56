"""PostgreSQL tests: the kernel and the plugins they load, on the real server at 127.0.0.1:5432."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def plugins_dir(tmp_path: Path) -> Path:
    """A folder for the test's plugin files (``--pluginsDir``)."""
    path = tmp_path / "plugins"
    path.mkdir()
    return path
