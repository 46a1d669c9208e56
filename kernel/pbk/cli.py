"""The ``pbk`` command: PocketBase's flags, plus commands that plugins add.

Global flags (``--dir``, ``--dev``, ``--plugins`` ...) may stand before or after the command
name, as with PocketBase's cobra CLI; each also reads a ``PBK_*`` environment variable.
Plugins are loaded before the command line is dispatched, so their commands appear in
``pbk --help``; a plugin that cannot load is reported in one line (a traceback with ``--dev``).
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import os
import sys
import traceback
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import click
from pbk_sdk.cli import AppRunnerHolder
from pbk_sdk.errors import PluginError

from . import __version__
from .app import App
from .config import (
    DEFAULT_DOMAINS_HTTP,
    DEFAULT_DOMAINS_HTTPS,
    DEFAULT_HTTP,
    DEFAULT_QUERY_TIMEOUT,
    DEFAULT_READ_HEADER_TIMEOUT,
    DEFAULT_READ_TIMEOUT,
    Config,
    parse_address,
)
from .plugins import (
    Available,
    Loaded,
    discover,
    hook_results,
    hooks_of,
    import_plugin,
    load,
    plugin_manager,
    selection,
)
from .scaffold import plugin_group
from .settings import SettingsError

VALUE_OPTIONS = ("--dir", "--encryptionEnv", "--queryTimeout", "--publicDir", "--plugins", "--pluginsDir",
                 "--migrationsDir", "--hooksDir", "--db")
FLAG_OPTIONS = ("--dev",)
OPTIONAL_VALUE_OPTIONS = ("--indexFallback", "--automigrate", "--hooksWatch")
TRUE_WORDS = ("1", "t", "true", "yes", "on")


def hoist_global_options(argv: Sequence[str]) -> list[str]:
    """Move global flags found anywhere (before ``--``) to the front, so click sees them as
    group options; normalise Go-style ``--dev=false`` and bare ``--indexFallback``."""
    hoisted: list[str] = []
    rest: list[str] = []
    args = list(argv)
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            rest.extend(args[i:])
            break
        name, eq, value = arg.partition("=")
        if name in VALUE_OPTIONS:
            if eq:
                hoisted.append(arg)
            elif i + 1 < len(args):
                hoisted.extend((arg, args[i + 1]))
                i += 1
            else:
                hoisted.append(arg)  # click reports the missing value
        elif name in FLAG_OPTIONS:
            if not eq or value.lower() in TRUE_WORDS:
                hoisted.append(name)
        elif name in OPTIONAL_VALUE_OPTIONS:
            hoisted.append(arg if eq else f"{name}=true")
        else:
            rest.append(arg)
        i += 1
    return hoisted + rest


def _split_list(value: str | None) -> tuple[str, ...] | None:
    if value is None:
        return None
    return tuple(part.strip() for part in value.split(",") if part.strip())


class Runner:
    """Builds apps from the parsed global options; what ``with_app`` commands run under."""

    def __init__(
        self,
        params: dict[str, Any],
        plugins: list[Loaded] | None,
        error: PluginError | None,
        available: dict[str, Available] | None = None,
    ):
        self.params = params
        self.plugins = plugins
        self.error = error
        self.available = available  # None when the discovery or the --plugins names failed

    def config(self, **extra: Any) -> Config:
        """The global options as a ``Config``; ``extra`` adds to them or replaces some."""
        p = self.params
        options: dict[str, Any] = {
            "data_dir": Path(p["data_dir"]),
            "public_dir": Path(p["public_dir"]) if p["public_dir"] else None,
            "dev": p["dev"],
            "index_fallback": p["index_fallback"],
            "query_timeout": p["query_timeout"],
            "encryption_env": p["encryption_env"] or None,
            "plugins": _split_list(p["plugins"]),
            "plugins_dir": Path(p["plugins_dir"]) if p["plugins_dir"] else None,
            "migrations_dir": Path(p["migrations_dir"]) if p["migrations_dir"] else None,
            "automigrate": p["automigrate"],
            "hooks_dir": Path(p["hooks_dir"]) if p["hooks_dir"] else None,
            "hooks_watch": p["hooks_watch"],
            "db": p["db"] or None,
        }
        return Config(**{**options, **extra})

    def build(self, **extra: Any) -> App:
        if self.error is not None:
            raise self.error
        assert self.plugins is not None
        return App(self.config(**extra), self.plugins)

    def run(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        return self.run_on({}, fn, *args, **kwargs)

    def run_on(self, options: Mapping[str, Any], fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        app = self.build(**options)

        async def main() -> Any:
            await app.start()
            try:
                result = fn(app, *args, **kwargs)
                if inspect.isawaitable(result):
                    result = await result
                return result
            finally:
                await app.stop()

        return asyncio.run(main())


def _runner(ctx: click.Context) -> Runner:
    holder = ctx.find_object(AppRunnerHolder)
    assert holder is not None
    return holder.runner  # type: ignore[return-value]


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, "-v", "--version", message="pbk version %(version)s")
@click.option("--dir", "data_dir", envvar="PBK_DIR", default="pb_data", show_default=True,
              help="The data directory (data.db, auxiliary.db, storage).")
@click.option("--db", "db", envvar="PBK_DB", default="",
              help="The database: postgresql://USER@HOST:PORT/NAME (with pbk-postgres installed); "
                   "default: SQLite files in the data dir.")
@click.option("--dev", is_flag=True, envvar="PBK_DEV", help="Debug logs, SQL and full tracebacks.")
@click.option("--encryptionEnv", "encryption_env", envvar="PBK_ENCRYPTION_ENV", default="",
              help="Name of the variable holding a 32-character key to encrypt the settings.")
@click.option("--queryTimeout", "query_timeout", envvar="PBK_QUERY_TIMEOUT", type=float,
              default=DEFAULT_QUERY_TIMEOUT, show_default=True, help="SELECT timeout in seconds.")
@click.option("--publicDir", "public_dir", envvar="PBK_PUBLIC_DIR", default="",
              help="Static files to serve (default: pb_public beside the data dir).")
@click.option("--indexFallback", "index_fallback", envvar="PBK_INDEX_FALLBACK", type=click.BOOL,
              default=True, show_default=True, help="Serve index.html for missing static paths.")
@click.option("--plugins", envvar="PBK_PLUGINS", default=None,
              help="Comma-separated plugins to load (default: every installed one).")
@click.option("--pluginsDir", "plugins_dir", envvar="PBK_PLUGINS_DIR", default="",
              help="Also load every *.py plugin file in this directory.")
@click.option("--migrationsDir", "migrations_dir", envvar="PBK_MIGRATIONS_DIR", default="",
              help="The project's migrations (default: pb_migrations beside the data dir).")
@click.option("--automigrate", envvar="PBK_AUTOMIGRATE", type=click.BOOL, default=True, show_default=True,
              help="Write a migration for every collection change.")
@click.option("--hooksDir", "hooks_dir", envvar="PBK_HOOKS_DIR", default="",
              help="The hook files, *.pb.py (default: pb_hooks beside the data dir).")
@click.option("--hooksWatch", "hooks_watch", envvar="PBK_HOOKS_WATCH", type=click.BOOL,
              default=True, show_default=True, help="Reload hook files when they change.")
def cli(**_: Any) -> None:
    """pbk: a PocketBase-compatible backend built from Python plugins."""


@cli.command()
@click.argument("domains", nargs=-1)
@click.option("--http", envvar="PBK_HTTP", default=None,
              help=f"TCP address to listen on for HTTP (default: {DEFAULT_HTTP}, or "
                   f"{DEFAULT_DOMAINS_HTTP} when domains are given).")
@click.option("--https", envvar="PBK_HTTPS", default=None,
              help=f"TCP address to listen on for HTTPS, with certificates obtained automatically "
                   f"(default: none, or {DEFAULT_DOMAINS_HTTPS} when domains are given); HTTP then "
                   f"redirects to it.")
@click.option("--origins", envvar="PBK_ORIGINS", default="*", show_default=True,
              help="Comma-separated CORS origins.")
@click.option("--workers", envvar="PBK_WORKERS", default="auto", show_default=True,
              help="Worker processes serving the data dir ('auto': one per usable CPU core).")
@click.option("--readHeaderTimeout", "read_header_timeout", envvar="PBK_READ_HEADER_TIMEOUT",
              type=click.FloatRange(min=0, min_open=True), default=DEFAULT_READ_HEADER_TIMEOUT,
              show_default=True, help="Seconds a client has to send a request's headers.")
@click.option("--readTimeout", "read_timeout", envvar="PBK_READ_TIMEOUT",
              type=click.FloatRange(min=0, min_open=True), default=DEFAULT_READ_TIMEOUT,
              show_default=True, help="Seconds a client has to send a whole request, body included.")
@click.pass_context
def serve(ctx: click.Context, domains: tuple[str, ...], http: str | None, https: str | None, origins: str,
          workers: str, read_header_timeout: float, read_timeout: float) -> None:
    """Start the web server (default 127.0.0.1:8090; with DOMAINS, HTTPS for them on
    0.0.0.0:443 with certificates obtained automatically, HTTP on 0.0.0.0:80 redirecting)."""
    from pbk_sdk.tls import certificate_name

    from .server import serve as run_server

    count = _worker_count(workers)
    if not http:
        http = DEFAULT_DOMAINS_HTTP if domains else DEFAULT_HTTP
    if not https:
        https = DEFAULT_DOMAINS_HTTPS if domains else ""
    if https:
        parse_address(https, "--https")  # a bad address is one line now, not a failed bind later
    # A name no certificate can be for is one line now, not a traceback once the app started.
    domains = tuple(dict.fromkeys(certificate_name(domain) for domain in domains))
    app = _runner(ctx).build(http=http, https=https, domains=domains, origins=_split_list(origins) or ("*",),
                             read_header_timeout=read_header_timeout, read_timeout=read_timeout)
    run_server(app, count)


def _worker_count(value: str) -> int:
    if value.strip().lower() == "auto":
        return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    try:
        count = int(value)
    except ValueError:
        count = 0
    if count < 1:
        raise click.BadParameter(f"expected a positive number or 'auto', got {value!r}", param_hint="--workers")
    return count


@cli.command()
@click.pass_context
def shell(ctx: click.Context) -> None:
    """An interactive Python shell with ``app`` started (ptpython on a terminal)."""
    from .shell import run_shell

    sys.exit(run_shell(_runner(ctx).build()))


@cli.command(name="plugins")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.pass_context
def list_plugins(ctx: click.Context, as_json: bool) -> None:
    """List installed plugins: what each does, where it comes from, what it requires, whether
    it loads with this selection and the hooks it implements."""
    runner = _runner(ctx)
    available = runner.available
    if available is None:  # a misspelt --plugins name fails, as serve does
        assert runner.error is not None
        raise runner.error
    selected = {p.name for p in runner.plugins or ()}
    rows = [_describe(a, selected) for a in available.values()]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        click.echo("No plugins installed.")
        return
    if runner.error is not None:
        click.echo(f"Not loadable as selected: {runner.error}", err=True)
    for row in rows:
        state = "loaded" if row["loaded"] else ("error" if row.get("error") else "not loaded")
        click.echo(f"{row['name']} {row['version']} ({state})")
        for label, value in (
            ("", row["description"]),
            ("from: ", row["origin"]),
            ("requires: ", ", ".join(row["requires"])),
            ("hooks: ", ", ".join(row["hooks"])),
            ("error: ", row.get("error", "")),
        ):
            if value:
                click.echo(f"    {label}{value}")


def _describe(available: Available, selected: set[str]) -> dict[str, Any]:
    row: dict[str, Any] = {
        "name": available.name,
        "version": available.version,
        "description": "",
        "distribution": available.distribution,
        "origin": available.origin,
        "loaded": available.name in selected,
        "requires": [],
        "hooks": [],
    }
    try:
        plugin = import_plugin(available)
        pm = plugin_manager([plugin])
    except PluginError as exc:
        row["error"] = str(exc)
        return row
    row["description"] = plugin.info.description
    row["requires"] = list(plugin.info.requires)
    row["hooks"] = hooks_of(pm, plugin.name)
    return row


cli.add_command(plugin_group)


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of the ``pbk`` command."""
    args = hoist_global_options(sys.argv[1:] if argv is None else argv)
    probe = cli.make_context("pbk", list(args), resilient_parsing=True)
    params = probe.params
    _configure_logging(bool(params.get("dev")))

    plugins: list[Loaded] | None = None
    error: PluginError | None = None
    available: dict[str, Available] | None = None
    try:
        found = discover(Path(params["plugins_dir"]) if params["plugins_dir"] else None)
        names = _split_list(params["plugins"])
        wanted = selection(found, names)  # the one selection check, for every command
        available = found
        plugins = load(found, wanted)
        hook_results(plugin_manager(plugins), "pbk_register_commands", cli=cli)
    except PluginError as exc:
        error = exc
        positional = [*getattr(probe, "protected_args", ()), *probe.args]
        command = next((a for a in positional if not a.startswith("-")), None)
        if command is not None and command not in cli.commands:
            _fail(exc, bool(params.get("dev")))

    holder = AppRunnerHolder(Runner(params, plugins, error, available))
    try:
        cli.main(args, prog_name="pbk", obj=holder, standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted!", err=True)
        sys.exit(1)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except (PluginError, SettingsError, ValueError, OSError) as exc:
        _fail(exc, bool(params.get("dev")))


def _fail(exc: BaseException, dev: bool) -> None:
    if dev:
        traceback.print_exception(exc)
    click.echo(f"Error: {exc}", err=True)
    sys.exit(1)


def _configure_logging(dev: bool) -> None:
    logging.basicConfig(
        level=logging.DEBUG if dev else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    if not dev:
        for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
            logging.getLogger(name).setLevel(logging.WARNING)
