"""``pbk backups create|list|restore``: the same backups as the API, with progress shown.

``restore`` swaps the data in when its own app has stopped; it refuses to run while a server
serves the data dir (which restores through ``POST /api/backups/{key}/restore``), and keeps the
previous data until a server has started on the restored one (see ``swap``).
"""

from __future__ import annotations

import os

import click
from pbk_sdk import App
from pbk_sdk.cli import with_app

from .archive import BackupError
from .lock import claim_unserved
from .service import BACKUPS, Backups, describe, name_error
from .swap import swap_in

SERVED = ("a server is serving this data dir: restore through its API "
          "(POST /api/backups/{key}/restore), or stop it first")


def _backups(app: App) -> Backups:
    return app.state[BACKUPS]


@click.group("backups")
def backups_command() -> None:
    """Make, list and restore backups of the data dir."""


@backups_command.command("create")
@click.argument("name", default="")
@with_app
async def create(app: App, name: str) -> None:
    """Make a backup (named NAME, or pb_backup_<app>_<time>.zip)."""
    backups = _backups(app)
    error = await name_error(backups, name)
    if error is not None:
        raise click.ClickException(f"Invalid backup name {name!r}: {error.message}")
    try:
        made = await backups.create(name, progress=click.echo)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Created backup {made}")


@backups_command.command("list")
@with_app
async def list_backups(app: App) -> None:
    """List the backups: key, size in bytes, modified."""
    for item in await _backups(app).list():
        shown = describe(item)
        click.echo(f"{shown['key']}\t{shown['size']}\t{shown['modified']}")


@backups_command.command("restore")
@click.argument("key")
def restore(key: str) -> None:
    """Replace the data dir's data with backup KEY (stop the server first)."""

    async def stage(app: App) -> tuple[Backups, int]:
        unserved = claim_unserved(app.data_dir)  # held until the swap is done
        if unserved is None:
            raise click.ClickException(SERVED.format(key=key))
        try:
            backups = _backups(app)
            if not await backups.exists(key, on_error=False):
                raise click.ClickException(f"Missing or invalid backup file {key!r}.")
            try:
                await backups.stage_restore(key, progress=click.echo)
            except BackupError as exc:
                raise click.ClickException(str(exc)) from None
        except BaseException:
            os.close(unserved)
            raise
        return backups, unserved

    backups, unserved = with_app(stage)()
    try:
        if not swap_in(backups.data_dir):
            raise click.ClickException("Restoring failed; the previous data is kept (see the log).")
    finally:
        backups.lock.release()
        os.close(unserved)
    click.echo(f"Restored backup {key}; the previous data is removed once a server has started on it")
