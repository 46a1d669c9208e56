"""``pbk serve`` for the browser tests, prepared in-process first (settings, accounts)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
from pbk_sdk.testing import LiveServer, free_port, start_live_server
from pbk_sdk.testing.postgres import database_for, engine_under_test
from playwright.sync_api import expect

PLUGINS = "records,auth,files,realtime,mailer,settings,logs,crons,backups,admin"
#: The superuser most dashboard tests sign in as (``add_root`` makes it).
ROOT = ("root@example.com", "root-password-1")


#: A data dir's PostgreSQL database, under ``PBK_TEST_DB=postgresql``.
DATABASES: dict[Path, str] = {}


def insert_rows(server: LiveServer, sql: str, rows: list[tuple[Any, ...]]) -> None:
    """``sql`` (``?`` placeholders) for each of ``rows``, straight into the server's database."""
    if server.data_dir in DATABASES:
        from pbk_postgres import PgConnection

        conn = PgConnection.connect(DATABASES[server.data_dir])
        try:
            with conn:
                conn.executemany(sql, rows)
        finally:
            conn.close()
        return
    with contextlib.closing(sqlite3.connect(server.data_dir / "data.db", timeout=10)) as db, db:
        db.executemany(sql, rows)


def serve_prepared(
    data_dir: Path, prepare: Callable[[Any, str], Awaitable[None]], workers: int = 1, plugins: str = PLUGINS
) -> LiveServer:
    """Run ``prepare(app, url)`` on the data dir, then serve it (with ``plugins``) at ``url``."""
    from pbk import build_app

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    database = database_for(data_dir) if engine_under_test() == "postgresql" else None  # PBK_TEST_DB
    if database:
        DATABASES[data_dir] = database

    async def run() -> None:
        app = build_app(data_dir=data_dir, plugins=tuple(plugins.split(",")), db=database)
        await app.start()
        try:
            await prepare(app, url)
        finally:
            await app.stop()

    asyncio.run(run())
    return start_live_server(data_dir, ["--plugins", plugins, "--workers", str(workers),
                                        *(["--db", database] if database else [])], port=port)


async def create_record(app: Any, collection: str, data: dict[str, Any]) -> dict[str, Any]:
    store = app.services.get("record_store", "sqlite")
    record: dict[str, Any] = await store.create(store.collection(collection), data)
    return record


async def add_root(app: Any, url: str) -> None:
    """A ``prepare`` for ``serve_prepared``: the superuser ``ROOT`` and nothing else."""
    await create_record(app, "_superusers", {"email": ROOT[0], "password": ROOT[1]})


def open_signed_in(page: Any, server: LiveServer, email: str, password: str) -> None:
    """Open the dashboard as a superuser whose session is already stored, as after a sign-in
    (the sign-in form itself is tested in test_admin_first_run.py)."""
    answer = httpx.post(f"{server.url}/api/collections/_superusers/auth-with-password",
                        json={"identity": email, "password": password}).raise_for_status().json()
    stored = json.dumps({"token": answer["token"], "record": answer["record"]})
    page.add_init_script(f"localStorage.setItem('pbk_superuser_auth', {json.dumps(stored)})")
    page.goto(server.url + "/_/")
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
