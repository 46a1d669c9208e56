"""``pbk serve`` for the browser tests, prepared in-process first (settings, accounts)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from pbk_sdk.testing import LiveServer, free_port, start_live_server

PLUGINS = "records,auth,files,realtime,mailer,settings,logs,crons,backups,admin"


def serve_prepared(
    data_dir: Path, prepare: Callable[[Any, str], Awaitable[None]], workers: int = 1
) -> LiveServer:
    """Run ``prepare(app, url)`` on the data dir, then serve it at ``url``."""
    from pbk import build_app

    port = free_port()
    url = f"http://127.0.0.1:{port}"

    async def run() -> None:
        app = build_app(data_dir=data_dir, plugins=tuple(PLUGINS.split(",")))
        await app.start()
        try:
            await prepare(app, url)
        finally:
            await app.stop()

    asyncio.run(run())
    return start_live_server(data_dir, ["--plugins", PLUGINS, "--workers", str(workers)], port=port)


async def create_record(app: Any, collection: str, data: dict[str, Any]) -> dict[str, Any]:
    store = app.services.get("record_store", "sqlite")
    record: dict[str, Any] = await store.create(store.collection(collection), data)
    return record
