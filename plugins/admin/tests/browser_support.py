"""Headless Chromium for the dashboard tests: Debian's ``chromium`` driven by Playwright
(never a downloaded browser), and a watch on every page for JavaScript errors and failed
requests."""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pbk_sdk.testing.debian import debian_program
from PIL import Image

CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).resolve().parents[3] / "docs" / "admin"


def chromium_path() -> str:
    """Debian's chromium, installed when missing."""
    return debian_program("chromium", CHROMIUM, "the dashboard's browser tests")


class Watch:
    """Collects what went wrong on a page: uncaught errors, console errors, requests that
    failed or answered an error the test did not expect (``with watch.expect(400):``)."""

    def __init__(self, page: Any) -> None:
        self.problems: list[str] = []
        self.expected: set[int] = set()
        page.on("pageerror", lambda error: self.problems.append(f"uncaught: {error}"))
        page.on("console", self._console)
        page.on("requestfailed", self._failed)
        page.on("response", self._response)

    def _console(self, message: Any) -> None:
        if message.type != "error":
            return
        # Chromium logs each error answer too; those are judged in _response.
        if "Failed to load resource" in message.text and "status of" in message.text:
            return
        self.problems.append(f"console: {message.text}")

    def _failed(self, request: Any) -> None:
        # A navigation or reload cancels what was in flight: not a failure of the page.
        if request.failure != "net::ERR_ABORTED":
            self.problems.append(f"failed: {request.method} {request.url} {request.failure}")

    def _response(self, response: Any) -> None:
        if response.status >= 400 and response.status not in self.expected:
            self.problems.append(f"answered {response.status}: {response.request.method} {response.url}")

    @contextmanager
    def expect(self, *statuses: int) -> Iterator[None]:
        self.expected.update(statuses)
        try:
            yield
        finally:
            self.expected.difference_update(statuses)

    def check(self) -> None:
        problems, self.problems = self.problems, []
        assert not problems, "the page had problems:\n" + "\n".join(problems)


def screenshot(page: Any, name: str) -> None:
    """Into docs/admin/ when PBK_ADMIN_SCREENSHOTS=1 (to refresh the docs); else not taken."""
    if os.environ.get("PBK_ADMIN_SCREENSHOTS") != "1":
        return
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    image = Image.open(io.BytesIO(page.screenshot()))
    image.quantize(colors=64).save(SCREENSHOTS / f"{name}.png", optimize=True)  # a third of the size
