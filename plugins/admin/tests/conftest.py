"""Dashboard tests: the plugin in-process, and ``pbk serve`` driven by headless Chromium."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import sync_playwright

# the aiosmtpd test server lives with the mailer plugin's tests
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "mailer" / "tests"))

from browser_support import Watch, chromium_path
from smtp_server import SmtpServer


@pytest.fixture
def pbk_plugins() -> list[str]:
    return ["records", "auth", "admin"]


@pytest.fixture(scope="module")
def smtp() -> Iterator[SmtpServer]:
    """A real SMTP server (aiosmtpd) per test module."""
    server = SmtpServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless Chromium per test module."""
    executable = chromium_path()
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh browser context at 1280×720 whose page fails the test on any JS error or
    unexpected failed request (``page.watch``)."""
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    opened = context.new_page()
    opened.watch = Watch(opened)
    opened.set_default_timeout(10_000)
    yield opened
    context.close()
    opened.watch.check()
