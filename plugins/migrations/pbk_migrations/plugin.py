"""The migrations plugin: a project's ``pb_migrations`` applied at start, automigrate, and
``pbk migrate``.

Pending migration files are applied by worker 0's ``pbk_startup``, after the records
plugin's (so every system collection exists), before the other workers start: they run
once for all workers. A failure stops the start-up with the file and the error. Automigrate
then listens in every worker (a change is written by the worker that made it).
"""

from __future__ import annotations

from typing import Any

from pbk_sdk import PluginInfo, hookimpl
from pbk_sdk.errors import StartupError
from pbk_sdk.interfaces import App

from .automigrate import Automigrate
from .cli import MANUAL, migrate
from .files import MigrationError
from .runner import Migrations

PLUGIN = PluginInfo(
    name="migrations",
    requires=("records",),
    description="pb_migrations/*.py applied at start, automigrate, `pbk migrate`.",
)


@hookimpl
def pbk_register_commands(cli: Any) -> None:
    cli.add_command(migrate)


@hookimpl
async def pbk_startup(app: App) -> None:
    if MANUAL.get():
        return
    if app.cluster.worker == 0:  # the others start once worker 0 serves: it applied them
        try:
            await Migrations(app).up()
        except MigrationError as exc:
            raise StartupError(str(exc)) from exc
    if app.config.automigrate:
        Automigrate(app).listen()
