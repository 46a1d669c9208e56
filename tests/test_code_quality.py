"""The code checks CI runs: ruff over the whole tree, mypy --strict over the SDK (what
third-party plugins type-check against). Each names what to fix in its failure."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]


def run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *command], cwd=ROOT, capture_output=True, text=True, check=False
    )


@pytest.mark.slow
def test_ruff_finds_nothing():
    result = run("ruff", "check", "--no-cache", ".")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.slow
def test_the_sdk_is_strictly_typed():
    result = run("mypy", "--config-file", "plugin-sdk/mypy.ini", "--no-incremental", "plugin-sdk/pbk_sdk")
    assert result.returncode == 0, result.stdout + result.stderr
