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
    "migrations_dir": "--migrationsDir",
    "hooks_dir": "--hooksDir",
    "db": "--db",
}
#: ``pbk_config`` keys whose flags take ``=true``/``=false``.
BOOL_FLAGS = {"index_fallback": "--indexFallback", "automigrate": "--automigrate",
              "hooks_watch": "--hooksWatch"}

#: ``pbk_config`` keys only ``pbk serve`` takes, with what to use when a command cannot.
SERVE_ONLY = {
    "origins": "only `pbk serve` takes --origins",
    "http": "only `pbk serve` takes --http (live_server picks its port: override pbk_live_port)",
}


class RunCommand(Protocol):
    """What the ``pbk_cli`` fixture gives."""

    def __call__(
        self, *args: str, input: str | None = None, env: Mapping[str, str] | None = None
    ) -> Result: ...


def config_flags(config: Mapping[str, Any], user: str, *, serving: bool = False) -> list[str]:
    """The ``pbk`` flags that give a process what ``config`` (``pbk_config``) gives an app in
    process, ``--dir`` first; ``serving`` adds ``pbk serve``'s ``--origins``.

    A key no flag carries fails the test: running without it would test another app.
    """
    flags = ["--dir", str(config["data_dir"])]
    for key, value in config.items():
        if key == "data_dir" or value is None:
            continue
        if key == "plugins":
            flags.append("--plugins=" + ",".join(value))
        elif key == "dev":
            flags += ["--dev"] if value else []
        elif key in BOOL_FLAGS:
            flags.append(f"{BOOL_FLAGS[key]}={'true' if value else 'false'}")
        elif key in VALUE_FLAGS:
            flags += [VALUE_FLAGS[key], str(value)]
        elif key == "origins" and serving:
            flags.append("--origins=" + (value if isinstance(value, str) else ",".join(value)))
        else:
            why = "" if serving else SERVE_ONLY.get(key, "")
            pytest.fail(
                f"{user} cannot pass pbk_config[{key!r}] to the pbk command: "
                f"{why or 'no pbk flag sets it'}",
                pytrace=False,
            )
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
    ``output`` (what a terminal shows), ``exception``. A ``pbk_config`` key that no global
    flag carries fails the test.

    The command runs in its own thread with its own event loop (``with_app`` commands start
    the app there), so async tests may call it too, also next to a running ``pbk_app``.
    """
    kernel_cli = require("pbk.cli", "the pbk_cli fixture")

    def run(
        *args: str, input: str | None = None, env: Mapping[str, str] | None = None
    ) -> Result:
        argv = [*config_flags(pbk_config, "the pbk_cli fixture"), *args]
        with ThreadPoolExecutor(1, thread_name_prefix="pbk-cli") as pool:
            return pool.submit(invoke, kernel_cli, argv, input, env).result()

    return run
