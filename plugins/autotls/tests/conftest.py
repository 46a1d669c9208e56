"""Autotls tests: a fresh pebble (Let's Encrypt's ACME test server, see pebble_server.py) per
test, so each test counts the certificates it issued."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pebble_server import Pebble, running_pebble


@pytest.fixture
def pebble(tmp_path: Path) -> Iterator[Pebble]:
    with running_pebble(tmp_path / "pebble") as server:
        yield server
