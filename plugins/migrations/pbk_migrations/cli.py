"""``pbk migrate [up|down [n]|create NAME|collections|history-sync]``, PocketBase's ``migrate``
command: its arguments, prompts and messages. These run with the app started but with the
project's migrations left alone (``up`` applies them itself) and no automigrate."""

from __future__ import annotations

import contextvars
import functools
from collections.abc import Callable
from typing import Any

import click
from pbk_sdk.cli import with_app
from pbk_sdk.interfaces import COLLECTIONS, App

from . import templates
from .files import MigrationError, new_file_name, snake_case
from .runner import Migrations

#: True while a ``migrate`` command runs: start-up then neither applies nor automigrates.
MANUAL: contextvars.ContextVar[bool] = contextvars.ContextVar("pbk_migrations_manual", default=False)

HELP = """Executes app DB migration scripts.

\b
Supported arguments are:
- up            - runs all available migrations
- down [number] - reverts the last [number] applied migrations
- create name   - creates new blank migration template file
- collections   - creates new migration file with snapshot of the local collections configuration
- history-sync  - ensures that the _migrations history table doesn't have references to deleted migration files
"""


def manual(command: Callable[..., Any]) -> Callable[..., Any]:
    """Run ``command`` (a ``with_app`` callback) with ``MANUAL`` set for its app's start-up."""

    @functools.wraps(command)
    def run(*args: Any, **kwargs: Any) -> Any:
        token = MANUAL.set(True)
        try:
            return command(*args, **kwargs)
        except MigrationError as exc:
            raise click.ClickException(str(exc)) from exc
        finally:
            MANUAL.reset(token)

    return run


@click.group("migrate", help=HELP, invoke_without_command=True)
@click.pass_context
def migrate(ctx: click.Context) -> None:
    if ctx.invoked_subcommand is None:  # PocketBase: no argument is "up"
        ctx.invoke(up)


@migrate.command("up")
@manual
@with_app
async def up(app: App) -> None:
    """Runs all available migrations."""
    applied = await Migrations(app).up()
    if not applied:
        click.echo("No new migrations to apply.")
    for name in applied:
        click.echo(f"Applied {name}")


@migrate.command("down")
@click.argument("count", type=int, default=1)
@manual
@with_app
async def down(app: App, count: int) -> None:
    """Reverts the last COUNT (default 1) applied migrations."""
    migrations = Migrations(app)
    names = await migrations.last_applied(count)
    if not names:
        click.echo("No migrations to revert.")
        return
    question = f"\n{chr(10).join(names)}\nDo you really want to revert the last {len(names)} applied migration(s)?"
    if not click.confirm(question, default=False):
        click.echo("The command has been cancelled")
        return
    for name in await migrations.down(names):
        click.echo(f"Reverted {name}")


def _create(app: App, name: str, text: Callable[[str], str]) -> None:
    folder = app.config.migrations_dir
    what = snake_case(name)
    if not what:
        raise click.ClickException("missing migration file name")
    path = folder / new_file_name(folder, what)
    if not click.confirm(f'Do you really want to create migration "{path}"?', default=False):
        click.echo("The command has been cancelled")
        return
    folder.mkdir(parents=True, exist_ok=True)
    path.write_text(text(what), encoding="utf-8")
    click.echo(f'Successfully created file "{path}"')


@migrate.command("create")
@click.argument("name", default="")
@manual
@with_app
def create(app: App, name: str) -> None:
    """Creates new blank migration template file."""
    _create(app, name, templates.blank)


@migrate.command("collections")
@manual
@with_app
def collections(app: App) -> None:
    """Creates new migration file with snapshot of the local collections configuration."""
    snapshot = [c.to_json() for c in app.state[COLLECTIONS].all()]
    _create(app, "collections_snapshot", lambda _: templates.snapshot(snapshot))


@migrate.command("history-sync")
@manual
@with_app
async def history_sync(app: App) -> None:
    """Ensures that the _migrations history table doesn't have references to deleted migration files."""
    await Migrations(app).history_sync()
    click.echo("The _migrations table was synced with the available migrations.")
