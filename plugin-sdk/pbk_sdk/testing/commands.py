"""Run ``pbk`` commands (the kernel's and those plugins add) in-process, as a terminal would."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from types import ModuleType
from typing import Any, Protocol

import click
import pytest
from click.testing import CliRunner, Result

from .extra import require

#: ``pbk_config`` keys that are global ``pbk`` flags with a value.
VALUE_FLAGS = {
    "plugins_dir": "--pluginsDir",
    "public_dir": "--publicDir",
    "encryption_env": "--encryptionEnv",
    "query_timeout": "--queryTimeout",
}


class RunCommand(Protocol):
    """What the ``pbk_cli`` fixture gives."""

    def __call__(
        self, *args: str, input: str | None = None, env: Mapping[str, str] | None = None
    ) -> Result: ...


def global_flags(config: Mapping[str, Any]) -> list[str]:
    """The ``pbk`` flags that select ``config``'s data dir, plugins and options."""
    flags = ["--dir", str(config["data_dir"])]
    if config.get("plugins") is not None:
        flags.append("--plugins=" + ",".join(config["plugins"]))
    for key, flag in VALUE_FLAGS.items():
        if config.get(key) is not None:
            flags += [flag, str(config[key])]
    if config.get("dev"):
        flags.append("--dev")
    return flags


def invoke(
    kernel_cli: ModuleType, argv: list[str], input: str | None, env: Mapping[str, str] | None
) -> Result:
    """``pbk ARGV`` under click's ``CliRunner``: the kernel's entry point parses the global
    flags and loads the plugins (adding their commands to its group) exactly as the ``pbk``
    command does; the group is put back as it was, so the next test starts clean."""
    group: click.Group = kernel_cli.cli
    commands = dict(group.commands)
    entry: Callable[[list[str]], None] = kernel_cli.main
    try:
        return CliRunner().invoke(click.Command("pbk", callback=lambda: entry(argv)), [],
                                  input=input, env=env)
    finally:
        group.commands.clear()
        group.commands.update(commands)


@pytest.fixture
def pbk_cli(pbk_config: dict[str, Any]) -> RunCommand:
    """``pbk_cli("superuser", "upsert", EMAIL, PASSWORD)`` runs ``pbk`` with the test app's
    data dir and plugins (``pbk_config``) and returns click's ``Result``: ``exit_code``,
    ``output`` (what a terminal shows), ``exception``.

    The command runs in its own thread with its own event loop (``with_app`` commands start
    the app there), so async tests may call it too, also next to a running ``pbk_app``.
    """
    kernel_cli = require("pbk.cli", "the pbk_cli fixture")

    def run(
        *args: str, input: str | None = None, env: Mapping[str, str] | None = None
    ) -> Result:
        argv = [*global_flags(pbk_config), *args]
        with ThreadPoolExecutor(1, thread_name_prefix="pbk-cli") as pool:
            return pool.submit(invoke, kernel_cli, argv, input, env).result()

    return run
