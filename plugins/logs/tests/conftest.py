"""Logs tests: records + auth + settings + logs on a temp data dir."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest
import pytest_asyncio
from pbk_logs.state import LOGS


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[pytest.TestReport]:
    """Captured output with the lone surrogates some tests log on purpose, escaped: pytest-xdist
    sends each report to the main process as UTF-8, which cannot carry them."""
    report = yield
    report.sections = [(title, text.encode("utf-8", "backslashreplace").decode()) for title, text in report.sections]
    return report


@pytest.fixture
def pbk_plugins() -> list[str]:
    return ["records", "auth", "settings", "logs"]


@pytest_asyncio.fixture
async def user_headers(pbk_app: Any) -> dict[str, str]:
    """``Authorization`` of a regular ``users`` record."""
    store = pbk_app.services.get("record_store", "sqlite")
    users = store.collection("users")
    record = await store.create(users, {"email": "ada@example.com", "password": "1234567890"})
    return {"Authorization": pbk_app.services.get("token_service", "jwt").mint(record, users, "auth")}


@pytest.fixture
def stored_logs(pbk_app: Any) -> Callable[[], Awaitable[list[tuple[Any, ...]]]]:
    """Write what waits in the buffer, then every ``_logs`` row as
    ``(level, message, data, created)`` in insertion order."""

    async def read() -> list[tuple[Any, ...]]:
        await pbk_app.state[LOGS].buffer.flush()
        return await pbk_app.aux_db.read(
            lambda conn: conn.execute("SELECT level, message, data, created FROM _logs ORDER BY rowid").fetchall()
        )

    return read
