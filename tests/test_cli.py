"""The ``pbk`` command as operators use it: real processes, real data dirs."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from pbk_sdk.testing import start_live_server

LIFECYCLE = """
from pathlib import Path
from pbk_sdk import Route, hookimpl

class Ping:
    async def on_get(self, req, resp):
        resp.media = {"pong": True}

@hookimpl
def pbk_register_routes(app):
    return [Route("/api/ping", Ping())]

@hookimpl
def pbk_banner_lines(app):
    return [("Ping", "/api/ping")]

@hookimpl
async def pbk_shutdown(app):
    (app.data_dir / "shutdown.txt").write_text("clean")
"""

GREET_COMMAND = """
import click
from pbk_sdk import hookimpl
from pbk_sdk.cli import with_app

@click.command()
@click.argument("name")
@with_app
async def greet(app, name):
    def remember(conn):
        conn.execute("CREATE TABLE IF NOT EXISTS greetings (name TEXT)")
        conn.execute("INSERT INTO greetings VALUES (?)", (name,))
        return conn.execute("SELECT COUNT(*) FROM greetings").get
    count = await app.db.write(remember)
    click.echo(f"hello {name} ({count})")

@hookimpl
def pbk_register_commands(cli):
    cli.add_command(greet)
"""


def pbk(*args: str, cwd: Path, stdin: str = "", env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pbk", *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
        check=False,
    )


def test_version_is_printed_like_pocketbases(tmp_path):
    result = pbk("--version", cwd=tmp_path)
    assert result.returncode == 0
    assert result.stdout.strip() == "pbk version 0.1.0"


def test_an_unknown_command_fails(tmp_path):
    result = pbk("--plugins=", "nope", cwd=tmp_path)
    assert result.returncode != 0
    assert "No such command 'nope'" in result.stderr


def test_an_unknown_plugin_fails_with_one_clear_line(tmp_path):
    result = pbk("serve", "--plugins", "nope,alsonope", cwd=tmp_path)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: unknown plugin 'nope', 'alsonope'; installed plugins: ")
    assert not (tmp_path / "pb_data").exists(), "nothing may be created when the start fails"


def test_a_broken_plugin_is_one_line_and_a_traceback_only_with_dev(tmp_path, plugins_dir, write_plugin):
    write_plugin("broken", "raise ImportError('needs libfoo')")
    result = pbk("serve", "--plugins=", "--pluginsDir", str(plugins_dir), cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"Error: plugin 'broken' ({plugins_dir / 'broken.py'}) failed to import: ImportError: needs libfoo"
    ]
    dev = pbk("serve", "--dev", "--plugins=", "--pluginsDir", str(plugins_dir), cwd=tmp_path)
    assert dev.returncode == 1
    assert "Traceback (most recent call last)" in dev.stderr
    assert dev.stderr.strip().endswith("failed to import: ImportError: needs libfoo")


def test_plugins_lists_versions_load_state_and_hooks(tmp_path, plugins_dir, write_plugin):
    write_plugin("lifecycle", LIFECYCLE)
    write_plugin("greeter", GREET_COMMAND)
    write_plugin("broken", "raise ImportError('needs libfoo')")
    result = pbk("plugins", "--json", "--pluginsDir", str(plugins_dir), "--plugins", "lifecycle", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    rows = {row["name"]: row for row in json.loads(result.stdout)}
    assert rows["broken"]["error"].endswith("failed to import: ImportError: needs libfoo")
    assert rows["lifecycle"]["hooks"] == ["pbk_banner_lines", "pbk_register_routes", "pbk_shutdown"]
    assert rows["greeter"]["hooks"] == ["pbk_register_commands"]
    assert rows["lifecycle"]["distribution"] == "local"
    # A broken local plugin loads with every selection, so nothing loads here.
    assert not any(row["loaded"] for row in rows.values())

    table = pbk("plugins", "--pluginsDir", str(plugins_dir), cwd=tmp_path)
    assert table.returncode == 0
    assert "lifecycle" in table.stdout and "hooks: pbk_banner_lines, pbk_register_routes, pbk_shutdown" in table.stdout


DESCRIBED = """
from pbk_sdk import PluginInfo, hookimpl

PLUGIN = PluginInfo("described", requires=("lifecycle",), description="Says what it does.")

@hookimpl(tryfirst=True)
def pbk_startup(app):
    pass
"""


def test_plugins_shows_description_origin_requirements_and_hooks(tmp_path, plugins_dir, write_plugin):
    write_plugin("lifecycle", LIFECYCLE)
    write_plugin("described", DESCRIBED)
    result = pbk("plugins", "--pluginsDir", str(plugins_dir), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    start = lines.index("described dev (loaded)")
    assert lines[start + 1 : start + 5] == [
        "    Says what it does.",
        f"    from: {plugins_dir / 'described.py'}",
        "    requires: lifecycle",
        "    hooks: pbk_startup",
    ]

    rows = {row["name"]: row for row in json.loads(pbk("plugins", "--json", cwd=tmp_path).stdout)}
    records = rows["records"]
    assert records["loaded"] and records["distribution"] != "local"
    assert records["origin"] == f"{records['distribution']} {records['version']}"
    assert records["description"] and "pbk_register_routes" in records["hooks"]


def test_plugins_with_an_unknown_selection_fails_with_one_line(tmp_path):
    result = pbk("plugins", "--plugins", "nosuch", cwd=tmp_path)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: unknown plugin 'nosuch'; installed plugins: ")
    assert result.stdout == ""


def test_plugin_commands_run_with_a_started_app_and_global_flags_anywhere(tmp_path, plugins_dir, write_plugin):
    write_plugin("greeter", GREET_COMMAND)
    data = tmp_path / "elsewhere"
    first = pbk("--plugins=", "--pluginsDir", str(plugins_dir), "greet", "ada", "--dir", str(data), cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == "hello ada (1)"
    second = pbk("greet", "--dir", str(data), "bob", "--plugins=", "--pluginsDir", str(plugins_dir), cwd=tmp_path)
    assert second.stdout.strip() == "hello bob (2)", second.stderr
    assert (data / "data.db").is_file()
    assert "greet" in pbk("--plugins=", "--pluginsDir", str(plugins_dir), "--help", cwd=tmp_path).stdout


def test_environment_variables_configure_like_flags(tmp_path, plugins_dir, write_plugin):
    write_plugin("lifecycle", LIFECYCLE)
    data = tmp_path / "from-env"
    env = {"PBK_DIR": str(data), "PBK_PLUGINS": "lifecycle", "PBK_PLUGINS_DIR": str(plugins_dir)}
    result = pbk("shell", cwd=tmp_path, stdin="print(app.data_dir, [p.name for p in app.plugins])\n", env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"{data} ['lifecycle']"


def test_shell_reads_statements_from_a_pipe_with_the_app_started(tmp_path):
    script = "\n".join(
        [
            "print(execute('CREATE TABLE notes (body TEXT)'))",
            "print(execute('INSERT INTO notes VALUES (?), (?)', 'a', 'b'))",
            "print(query('SELECT body FROM notes ORDER BY body'))",
            "print([p.name for p in app.plugins])",
            "print(run(app.db.read(lambda c: c.execute('PRAGMA journal_mode').get)))",
        ]
    )
    result = pbk("shell", "--plugins=", "--dir", str(tmp_path / "pb_data"), cwd=tmp_path, stdin=script + "\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["0", "2", "[{'body': 'a'}, {'body': 'b'}]", "[]", "wal"]


def test_shell_exits_non_zero_when_a_statement_fails(tmp_path):
    result = pbk("shell", "--plugins=", cwd=tmp_path, stdin="query('SELECT * FROM missing')\nprint('after')\n")
    assert result.returncode == 1
    assert "no such table: missing" in result.stderr
    assert result.stdout.strip() == "after"


def test_shell_runs_top_level_await_from_a_pipe_on_the_apps_loop(tmp_path):
    script = "\n".join(
        [
            'rows = await query("SELECT 1 AS one")',
            "print(rows)",
            'await execute("CREATE TABLE notes (body TEXT)")',
            'await execute("INSERT INTO notes VALUES (?)", "x")',
            'print(await run(app.db.read(lambda c: c.execute("SELECT count(*) FROM notes").get)))',
            'for row in query("SELECT body FROM notes"):',
            '    print(row["body"])',
            "",
            'await query("SELECT * FROM missing")',
            'print("after")',
        ]
    )
    result = pbk("shell", "--plugins=", "--dir", str(tmp_path / "pb_data"), cwd=tmp_path, stdin=script + "\n")
    # The bare awaited execute()s echo their results as a Python prompt would: 0, then 1.
    assert result.stdout.splitlines() == ["[{'one': 1}]", "0", "1", "1", "x", "after"]
    assert "no such table: missing" in result.stderr
    assert result.returncode == 1


def test_shell_whose_app_fails_to_start_stops_and_closes_its_loop(tmp_path, plugins_dir, write_plugin, monkeypatch):
    import asyncio
    import threading

    from pbk import build_app
    from pbk.shell import run_shell
    from pbk_sdk.errors import PluginError

    write_plugin(
        "failing",
        """
        from pbk_sdk import hookimpl

        @hookimpl
        def pbk_startup(app):
            raise RuntimeError("no token")
        """,
    )
    loops: list[asyncio.AbstractEventLoop] = []
    new_event_loop = asyncio.new_event_loop
    monkeypatch.setattr(asyncio, "new_event_loop", lambda: loops.append(new_event_loop()) or loops[-1])
    app = build_app(data_dir=tmp_path / "pb_data", plugins=[], plugins_dir=plugins_dir)
    with pytest.raises(PluginError, match="plugin 'failing' failed in pbk_startup"):
        run_shell(app)
    assert [loop.is_closed() for loop in loops] == [True]
    assert not [t for t in threading.enumerate() if t.name == "pbk-shell-loop"]


def test_shell_lists_its_helpers_with_their_first_doc_line_on_start(tmp_path):
    from pbk.shell import helpers

    result = pbk("shell", "--plugins=", "--dir", str(tmp_path / "pb_data"), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    listing = result.stderr.splitlines()
    assert listing[0] == f"pbk shell: `app` is started on {tmp_path / 'pb_data'}."
    functions = helpers(None, None)  # type: ignore[arg-type]
    assert sorted(functions) == ["execute", "query", "run"]
    for name, function in functions.items():
        summary = function.__doc__.splitlines()[0]
        assert any(line.startswith(f"  {name}(") and line.endswith(summary) for line in listing), name
    assert re.search(r"^  query\(sql, \*params\) +Read rows as dicts", result.stderr, re.MULTILINE)


@pytest.mark.slow
def test_shell_on_a_terminal_is_ptpython_with_the_app(tmp_path):
    import pty
    import select
    import time

    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "pbk", "shell", "--plugins=", "--dir", str(tmp_path / "pb_data")],
        stdin=follower, stdout=follower, stderr=follower, cwd=tmp_path, close_fds=True,
        env={**os.environ, "TERM": "xterm", "COLUMNS": "100", "LINES": "30"},
    )
    os.close(follower)
    seen = b""

    def read_until(needle: bytes, timeout: float = 20.0) -> None:
        nonlocal seen
        deadline = time.monotonic() + timeout
        while needle not in seen and time.monotonic() < deadline:
            ready, _, _ = select.select([leader], [], [], 0.2)
            if ready:
                try:
                    seen += os.read(leader, 65536)
                except OSError:
                    break
        assert needle in seen, seen.decode(errors="replace")[-2000:]

    try:
        read_until(b"pbk shell")
        os.write(leader, b"print(query('SELECT 6 * 7 AS answer'))\r")
        read_until(b"'answer': 42")
        os.write(leader, b"rows = await query('SELECT 6 * 8 AS awaited')\r")
        os.write(leader, b"print(rows)\r")
        read_until(b"'awaited': 48")
        os.write(leader, b"exit()\r")
        assert process.wait(timeout=20) == 0
    finally:
        if process.poll() is None:
            process.kill()
        os.close(leader)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_serve_answers_then_shuts_down_gracefully(tmp_path, plugins_dir, write_plugin, sig):
    write_plugin("lifecycle", LIFECYCLE)
    server = start_live_server(tmp_path / "pb_data", ["--plugins=", "--pluginsDir", str(plugins_dir), "--workers=1"])
    try:
        assert httpx.get(f"{server.url}/api/ping").json() == {"pong": True}
        banner = f"Server started at {server.url}\n├─ REST API: {server.url}/api/\n└─ Ping:     {server.url}/api/ping\n"
        assert banner in server.output()
    finally:
        code = server.stop(sig)
    assert code == 0, server.output()
    assert (tmp_path / "pb_data" / "shutdown.txt").read_text() == "clean"


def test_serve_refuses_a_bad_address(tmp_path):
    result = pbk("serve", "--plugins=", "--http", "localhost", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.strip() == "Error: invalid --http address 'localhost': expected HOST:PORT"
