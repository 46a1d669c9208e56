"""Plain ``pytest`` in an environment that has the SDK without its ``[testing]`` extra.

The SDK's ``pytest11`` entry point loads the ``pbk`` plugin there too. Modules on
``PYTHONPATH`` that fail to import shadow what the extra brings (pytest-asyncio, the kernel,
httpx) in a pytest subprocess, whose ``-p no:asyncio`` keeps pytest from loading
pytest-asyncio's own plugin. (A ``sys.meta_path`` blocker would not do: pytest's assertion
rewriter finds plugin modules itself.) The ``pbk`` plugin must load, and only the tests using
its fixtures fail, saying what to install.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

#: Modules the extra brings, shadowed by modules that fail to import.
HIDDEN = ("pytest_asyncio", "pbk", "httpx")
HIDDEN_MODULE = 'raise ModuleNotFoundError(f"No module named {__name__!r}", name=__name__)\n'

AUTHORS_TESTS = """
import importlib

import pytest


@pytest.mark.parametrize("module", {hidden})
def test_the_extra_is_hidden(module):
    with pytest.raises(ImportError):
        importlib.import_module(module)


def test_without_fixtures(pbk_config):
    assert pbk_config["data_dir"].name == "pb_data"


def test_app(pbk_app):
    assert pbk_app.data_dir.is_dir()


def test_superuser(pbk_superuser):
    assert pbk_superuser.token


def test_cli(pbk_cli):
    assert pbk_cli("--version").exit_code == 0


def test_live_server(live_server):
    assert live_server.url
"""

INSTALL_HINT = "install it with: pip install 'pbk-plugin-sdk[testing]'"
MESSAGES = {
    "test_app": "the pbk_app fixture needs 'pytest_asyncio'",
    "test_superuser": "the pbk_superuser fixture needs 'pytest_asyncio'",
    "test_cli": "the pbk_cli fixture needs 'pbk.cli'",
    "test_live_server": "start_live_server needs 'pbk'",
}


def test_the_plugin_loads_and_its_fixtures_say_what_to_install(tmp_path: Path) -> None:
    shim = tmp_path / "shim"
    shim.mkdir()
    for module in HIDDEN:
        (shim / f"{module}.py").write_text(HIDDEN_MODULE)
    (tmp_path / "test_author.py").write_text(AUTHORS_TESTS.format(hidden=list(HIDDEN)))
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:asyncio", "-p", "no:cacheprovider",
         "-q", "-rA", "test_author.py"],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(shim)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 1, output  # some tests failed; a crash at plugin load exits 3 or 4
    assert "4 passed, 4 errors" in output, output
    for test, message in MESSAGES.items():
        assert f"ERROR at setup of {test} " in output, output
        assert f"{message}, which the pbk SDK's [testing] extra brings" in output, output
    errors = output.partition("short test summary info")[0]  # the summary repeats each, as wide as the terminal
    assert errors.count(INSTALL_HINT) == len(MESSAGES), output
    assert "During handling of the above exception" not in output, output
