"""Dashboard tests: the plugin in-process, and ``pbk serve`` driven by headless Chromium."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# the aiosmtpd test server lives with the mailer plugin's tests
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "mailer" / "tests"))




@pytest.fixture
def pbk_plugins() -> list[str]:
    return ["records", "auth", "admin"]
