"""The ``pbk db`` commands; the storage itself is picked by the URL (``pbk.databases``)."""

from __future__ import annotations

from typing import Any

from pbk_sdk import PluginInfo, hookimpl

from .cli import db_command

PLUGIN = PluginInfo(name="postgres", description="pbk db copy: move a data set between SQLite and PostgreSQL.")


@hookimpl
def pbk_register_commands(cli: Any) -> None:
    cli.add_command(db_command)
