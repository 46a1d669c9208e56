"""Helpers for plugin commands added through ``pbk_register_commands``."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any, Protocol

import click


class AppRunner(Protocol):
    """Put in the click context by the kernel: runs a function with a started app."""

    def run(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Start the app (database open, migrations applied), call ``fn(app, ...)`` (awaiting
        it when async), stop the app, return the result."""
        ...

    def run_on(self, options: Mapping[str, Any], fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """``run`` with an app on another data set than the global options name: ``options``
        replace some of them (``data_dir``, ``db``, ``migrations_dir``, ``hooks_dir``,
        ``automigrate``, ``hooks_watch``), as for ``pbk db copy``'s destination."""
        ...


def app_runner() -> AppRunner:
    """The kernel's ``AppRunner`` of the running ``pbk`` command, for a command that starts
    apps of its own choosing (``with_app`` covers the usual case)."""
    holder = click.get_current_context().find_object(AppRunnerHolder)
    if holder is None:
        raise click.UsageError("this command must run under the pbk CLI")
    return holder.runner


def with_app(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Decorate a click command callback to receive a started ``app`` as first argument.

    The app honours the global options (``--dir``, ``--encryptionEnv`` ...) wherever they
    stand on the command line. ``fn`` may be ``async def``.
    """

    @click.pass_context
    @functools.wraps(fn)
    def command(ctx: click.Context, /, *args: Any, **kwargs: Any) -> Any:
        runner = ctx.find_object(AppRunnerHolder)
        if runner is None:
            raise click.UsageError("this command must run under the pbk CLI")
        return runner.runner.run(fn, *args, **kwargs)

    return command


class AppRunnerHolder:
    """The object the kernel stores in ``ctx.obj``; click finds it by type."""

    def __init__(self, runner: AppRunner) -> None:
        self.runner = runner
