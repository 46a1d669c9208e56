"""``pbk_cli``: a plugin's command run against the test app's data dir."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest
from pbk.cli import cli as kernel_group
from pbk_sdk.interfaces import RECORD_STORE

GREET_PLUGIN = """
import sys
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

@click.command()
def shout():
    click.echo(sys.stdin.read().upper(), nl=False)

@hookimpl
def pbk_register_commands(cli):
    cli.add_command(greet)
    cli.add_command(shout)
"""


@pytest.fixture
def pbk_plugins() -> list[str]:
    return ["records", "auth"]


@pytest.fixture
def pbk_config(pbk_config: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    """The app also loads the ``greet`` plugin from a plugins dir."""
    plugins_dir = tmp_path / "plugins"
    plugins_dir.mkdir()
    (plugins_dir / "greet.py").write_text(textwrap.dedent(GREET_PLUGIN))
    return {**pbk_config, "plugins_dir": plugins_dir}


def test_a_plugins_command_runs_on_the_test_data_dir(pbk_cli, pbk_config):
    first = pbk_cli("greet", "ada")
    second = pbk_cli("greet", "bob")
    assert (first.exit_code, first.output) == (0, "hello ada (1)\n")
    assert (second.exit_code, second.output) == (0, "hello bob (2)\n")
    assert (pbk_config["data_dir"] / "data.db").is_file()


def test_commands_plugins_added_are_gone_after_the_run(pbk_cli):
    assert pbk_cli("greet", "ada").exit_code == 0
    assert "greet" not in kernel_group.commands
    assert "superuser" not in kernel_group.commands


async def test_the_running_app_sees_what_a_command_wrote(pbk_cli, pbk_app):
    result = pbk_cli("superuser", "upsert", "ops@example.com", "a-long-password")
    store = pbk_app.services.get(RECORD_STORE)
    superuser = await store.find(store.collection("_superusers"), "email", "ops@example.com")
    assert result.exit_code == 0, result.output
    assert result.output == 'Successfully saved superuser "ops@example.com"!\n'
    assert superuser is not None


def test_a_failing_command_gives_its_exit_code_and_message(pbk_cli):
    result = pbk_cli("superuser", "upsert", "not-an-email", "a-long-password")
    assert result.exit_code == 1
    assert "missing or invalid email address" in result.output


def test_a_usage_error_exits_with_2(pbk_cli):
    result = pbk_cli("greet")
    assert result.exit_code == 2
    assert "Missing argument 'NAME'" in result.output


def test_input_is_the_commands_stdin(pbk_cli):
    result = pbk_cli("shout", input="quiet please\n")
    assert (result.exit_code, result.output) == (0, "QUIET PLEASE\n")


@pytest.mark.parametrize(("key", "reason"), [
    ("max_body_size", "no pbk flag sets it"),
    ("origins", "only `pbk serve` takes --origins"),
])
def test_a_config_key_no_flag_carries_fails_the_test(pbk_config, key, reason):
    from pbk_sdk.testing.commands import config_flags

    with pytest.raises(pytest.fail.Exception) as failed:
        config_flags({**pbk_config, key: 1 << 20}, "the pbk_cli fixture")
    assert str(failed.value) == (
        f"the pbk_cli fixture cannot pass pbk_config[{key!r}] to the pbk command: {reason}"
    )


def test_config_keys_become_pbk_flags(pbk_config, tmp_path):
    from pbk_sdk.testing.commands import config_flags

    config = {**pbk_config, "dev": True, "index_fallback": False, "encryption_env": "KEY", "origins": ("a", "b"),
              "migrations_dir": tmp_path / "schema", "automigrate": False}
    assert config_flags(config, "live_server", serving=True) == [
        "--dir", str(tmp_path / "pb_data"), "--plugins=records,auth",
        "--pluginsDir", str(tmp_path / "plugins"), "--dev", "--indexFallback=false",
        "--encryptionEnv", "KEY", "--origins=a,b", "--migrationsDir", str(tmp_path / "schema"),
        "--automigrate=false",
    ]
