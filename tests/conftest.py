"""Kernel tests build apps with no installed plugins unless a test says otherwise; and how the
whole suite is split between pytest-xdist workers."""

from __future__ import annotations

import os
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

#: Tests that load the machine (servers under generated load) or time themselves: one pytest-xdist
#: worker runs them one after another, so that none of them overlaps another (node id prefixes).
LOAD_GROUP = (
    "tests/test_bench_smoke.py",
    "tests/test_db.py::test_a_slow_read_does_not_block_the_event_loop",
    "plugins/crons/tests/test_crons_workers.py",
    "plugins/logs/tests/test_live.py::test_two_workers_honour_the_settings",
    "plugins/records/tests/test_stalls.py",
    "plugins/settings/tests/test_settings_form_scaling.py",
)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """pytest-xdist's ``loadfile`` split of the whole session (pyproject.toml), tests of one module
    on one worker so that a module-scoped server starts once, but with ``LOAD_GROUP`` as one unit.
    (Its ``xdist_group`` mark cannot do this: it rewrites node ids in a way pytest 9 ignores.)"""
    from xdist.scheduler import LoadFileScheduling

    class ModulesAndLoadGroup(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return "load group" if nodeid.startswith(LOAD_GROUP) else super()._split_scope(nodeid)

    return ModulesAndLoadGroup(config, log)


def pytest_configure(config: pytest.Config) -> None:
    """A pytest that a test starts (a scaffolded plugin's own suite, a docs example) is a run of
    its own, not one of this run's workers: without xdist's variables in the environment it
    inherits, pytest-benchmark, where installed, does not take it for one and warn."""
    for name in ("PYTEST_XDIST_WORKER", "PYTEST_XDIST_WORKER_COUNT", "PYTEST_XDIST_TESTRUNUID"):
        os.environ.pop(name, None)


@pytest.fixture
def pbk_plugins() -> list[str]:
    return []


@pytest.fixture
def plugins_dir(tmp_path: Path) -> Path:
    path = tmp_path / "plugins"
    path.mkdir()
    return path


@pytest.fixture
def write_plugin(plugins_dir: Path) -> Callable[[str, str], Path]:
    """Write a plugin module into ``plugins_dir``: ``write_plugin("name", source)``."""

    def write(name: str, source: str) -> Path:
        path = plugins_dir / f"{name}.py"
        path.write_text(textwrap.dedent(source))
        return path

    return write
