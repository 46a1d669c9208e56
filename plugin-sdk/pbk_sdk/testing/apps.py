"""In-process apps: the kernel builds a real app on a temp data dir, falcon's ``ASGIConductor``
sends it requests (one lifespan per test)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import falcon.testing
import pytest

from ..interfaces import App
from .extra import async_fixture, require
from .postgres import current_database, engine_under_test


@pytest.fixture
def pbk_plugins() -> Sequence[str] | None:
    """The plugins the app loads; ``None`` loads every installed plugin."""
    return None


@pytest.fixture
def pbk_config(tmp_path: Path, pbk_plugins: Sequence[str] | None) -> dict[str, Any]:
    """Keyword arguments for ``pbk.Config``; the data dir is a fresh temp dir. Under
    ``PBK_TEST_DB=postgresql``, ``db`` is the test's PostgreSQL database."""
    data_dir = tmp_path / "pb_data"
    config: dict[str, Any] = {
        "data_dir": data_dir,
        "plugins": tuple(pbk_plugins) if pbk_plugins is not None else None,
    }
    if engine_under_test() == "postgresql":
        config["db"] = current_database()
    return config


async def start_app(config: dict[str, Any], user: str) -> Any:
    """The kernel's app built from ``config`` and started (plugins still import only pbk_sdk)."""
    app = require("pbk", user).build_app(**config)
    await app.start()
    return app


@async_fixture
async def pbk_app(pbk_config: dict[str, Any]) -> AsyncIterator[App]:
    """A started app (database open, migrations applied, ``pbk_startup`` run)."""
    app = await start_app(pbk_config, "the pbk_app fixture")
    try:
        yield app
    finally:
        await app.stop()


@async_fixture
async def pbk_client(pbk_app: Any) -> AsyncIterator[falcon.testing.ASGIConductor]:
    """``falcon.testing.ASGIConductor`` over the app: ``await pbk_client.get("/api/health")``."""
    async with falcon.testing.ASGIConductor(pbk_app.asgi) as conductor:
        yield conductor


@contextlib.asynccontextmanager
async def client_for(config: dict[str, Any]) -> AsyncIterator[falcon.testing.ASGIConductor]:
    """A started app built from ``config`` (``pbk.Config`` keyword arguments) and a falcon
    ``ASGIConductor`` over it, for a test that needs an app other than ``pbk_app``."""
    app = await start_app(config, "client_for")
    try:
        async with falcon.testing.ASGIConductor(app.asgi) as conductor:
            yield conductor
    finally:
        await app.stop()
