"""``pbk plugins`` and ``pbk serve`` judge a ``--plugins`` selection by the one check ``main``
makes: a selection that stops one stops the other with the same line, and a plugin that fails
to import stops ``serve`` but is listed (with its error) by ``plugins``."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_cli import pbk

SELECTIONS = {
    "unknown": (["--plugins", "nosuch"], {}),
    "unknown-after-blank": (["--plugins", " ,nosuch,"], {}),
    "unknown-by-env": ([], {"PBK_PLUGINS": "records,nosuch"}),
}


@pytest.mark.parametrize(("args", "env"), SELECTIONS.values(), ids=SELECTIONS.keys())
def test_a_refused_selection_stops_both_commands_alike(tmp_path: Path, args: list[str], env: dict[str, str]) -> None:
    listed = pbk("plugins", *args, cwd=tmp_path, env=env)
    served = pbk("serve", *args, cwd=tmp_path, env=env)
    assert listed.returncode == served.returncode == 1
    assert listed.stderr == served.stderr
    assert listed.stderr.startswith("Error: unknown plugin 'nosuch'; installed plugins: ")
    assert listed.stdout == ""


def test_a_plugin_that_fails_to_import_is_listed_but_stops_serve(tmp_path: Path, plugins_dir: Path, write_plugin) -> None:
    write_plugin("broken", "raise ImportError('needs libfoo')")
    args = ("--plugins=", "--pluginsDir", str(plugins_dir))
    listed = pbk("plugins", *args, cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert "broken dev (error)" in listed.stdout
    assert "failed to import: ImportError: needs libfoo" in listed.stderr
    served = pbk("serve", *args, cwd=tmp_path)
    assert served.returncode == 1
    assert served.stderr.strip().endswith("failed to import: ImportError: needs libfoo")
