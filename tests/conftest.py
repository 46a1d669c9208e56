"""Kernel tests build apps with no installed plugins unless a test says otherwise."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest


@pytest.fixture
def pbk_plugins() -> list[str]:
    return []


@pytest.fixture
def plugins_dir(tmp_path: Path) -> Path:
    path = tmp_path / "plugins"
    path.mkdir()
    return path


@pytest.fixture
def write_plugin(plugins_dir: Path) -> Callable[[str, str], Path]:
    """Write a plugin module into ``plugins_dir``: ``write_plugin("name", source)``."""

    def write(name: str, source: str) -> Path:
        path = plugins_dir / f"{name}.py"
        path.write_text(textwrap.dedent(source))
        return path

    return write
