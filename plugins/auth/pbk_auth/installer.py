"""PocketBase's first run: while there is no superuser, ``pbk serve`` creates a hidden
installer superuser and prints a link that signs the browser in as it, to create the first real
superuser; that first superuser deletes the installer account. The last superuser stays."""

from __future__ import annotations

import click
from pbk_sdk import App
from pbk_sdk.auth import SUPERUSERS
from pbk_sdk.errors import ApiError
from pbk_sdk.events import (
    RECORD_AFTER_CREATE_SUCCESS,
    RECORD_DELETE,
    SERVE,
    RecordEvent,
    ServeEvent,
)

from . import tokens
from .services import random_password, store, system_collection

INSTALLER_EMAIL = "__pbinstaller@example.com"
INSTALLER_TOKEN_SECONDS = 1800


def listen(app: App) -> None:
    """Print the link when the server starts; drop the installer with the first superuser."""

    async def on_serve(event: ServeEvent) -> None:
        await _print_link(app, event)

    async def on_superuser_created(event: RecordEvent) -> None:
        await _drop_installer(app, event)

    async def on_superuser_delete(event: RecordEvent) -> None:
        await _keep_one_superuser(app, event)

    app.events.on(SERVE, on_serve)
    app.events.on(RECORD_AFTER_CREATE_SUCCESS, on_superuser_created, collections=[SUPERUSERS])
    app.events.on(RECORD_DELETE, on_superuser_delete, collections=[SUPERUSERS])


async def _print_link(app: App, event: ServeEvent) -> None:
    """By the first worker only, when there are several."""
    if app.cluster.worker != 0:
        await event.next()
        return
    try:
        link = await installer_link(app, event.url or f"http://{event.address}")
    except Exception:
        app.log.exception("could not create the installer link")
        link = None
    if link:
        click.echo(
            "\n(!) Launch the URL below in the browser if it hasn't been open already to create "
            f"your first superuser account:\n{link}\n(you can also create your first superuser "
            "by running: pbk superuser upsert EMAIL PASS)\n"
        )
    await event.next()


async def installer_link(app: App, base_url: str) -> str | None:
    """The link with a 30-minute installer token, or None once a real superuser exists."""
    collection = store(app).collection(SUPERUSERS)
    if collection is None:
        return None
    installer = await store(app).find(collection, "email", INSTALLER_EMAIL)
    if await store(app).count(collection) > (1 if installer else 0):
        return None
    if installer is None:
        try:
            installer = await store(app).create(
                collection, {"email": INSTALLER_EMAIL, "password": random_password(), "verified": True}
            )
        except ApiError:
            # Another node of a cluster started at the same time made it first (a unique email).
            installer = await store(app).find(collection, "email", INSTALLER_EMAIL)
            if installer is None:
                raise
    token = tokens.mint(installer, collection, seconds=INSTALLER_TOKEN_SECONDS, refreshable=False)
    return f"{base_url}/_/#/pbinstall/{token}"


async def _drop_installer(app: App, event: RecordEvent) -> None:
    await event.next()
    if event.record.get("email") == INSTALLER_EMAIL:
        return
    collection = system_collection(app, SUPERUSERS)
    installer = await store(app).find(collection, "email", INSTALLER_EMAIL)
    if installer is not None:
        await store(app).delete(collection, installer["id"])


async def _keep_one_superuser(app: App, event: RecordEvent) -> None:
    """PocketBase refuses to delete the last superuser (the count runs in the delete's
    transaction, so a batch cannot delete them all)."""
    if await store(app).count(event.collection) <= 1:
        raise ApiError(400, "You can't delete the only existing superuser.")
    await event.next()
