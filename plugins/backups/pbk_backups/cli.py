"""``pbk backups create|list|restore``: the same backups as the API, with progress shown.

``restore`` swaps the data in when its own app has stopped, so run it while no server serves
the data dir (a running server restores through ``POST /api/backups/{key}/restore``).
"""

from __future__ import annotations

import click
from pbk_sdk import App
from pbk_sdk.cli import with_app

from .archive import BackupError
from .service import BACKUPS, Backups, describe
from .swap import swap_in


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
    try:
        made = await _backups(app).create(name, progress=click.echo)
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

    async def stage(app: App) -> Backups:
        backups = _backups(app)
        if not await backups.exists(key, on_error=False):
            raise click.ClickException(f"Missing or invalid backup file {key!r}.")
        try:
            await backups.stage_restore(key, progress=click.echo)
        except BackupError as exc:
            raise click.ClickException(str(exc)) from None
        return backups

    backups = with_app(stage)()
    try:
        if not swap_in(backups.data_dir):
            raise click.ClickException("Restoring failed; the previous data is kept (see the log).")
    finally:
        backups.lock.release()
    click.echo(f"Restored backup {key}")
