"""``pbk plugin new``: the distribution it writes installs, passes its own tests and serves."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import tomllib
from pathlib import Path

import httpx
import pytest
from fresh_venv import build_wheels, install_wheels, layered_venv
from pbk.scaffold import ScaffoldError, sdk_requirement, write_plugin
from pbk_sdk.testing import start_live_server


def pbk(*args: str, python: Path | str = sys.executable, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(python), "-m", "pbk", *args], check=False, cwd=cwd, capture_output=True, text=True, timeout=120
    )


def test_writes_a_distribution_named_by_the_scheme(tmp_path: Path) -> None:
    written = write_plugin("visit_counter", tmp_path / "out")
    assert sorted(str(p.relative_to(tmp_path / "out")) for p in written) == [
        ".gitignore", "README.md", "pbk_visit_counter/__init__.py", "pyproject.toml",
        "tests/test_visit_counter.py",
    ]
    pyproject = tomllib.loads((tmp_path / "out" / "pyproject.toml").read_text())
    project = pyproject["project"]
    assert project["name"] == "pbk-visit-counter"
    assert project["dependencies"] == [sdk_requirement()]
    assert project["optional-dependencies"]["test"] == [sdk_requirement("[testing]")]
    assert project["entry-points"]["pbk.plugins"] == {"visit_counter": "pbk_visit_counter"}
    assert pyproject["tool"]["pytest"]["ini_options"]["filterwarnings"] == ["error"]
    for path in written:
        if path.suffix == ".py":
            ast.parse(path.read_text(), str(path))
    assert 'PLUGIN = PluginInfo(name="visit_counter"' in (tmp_path / "out" / "pbk_visit_counter" / "__init__.py").read_text()


# The last four would shadow pbk itself: pbk_sdk, pbk-plugin-sdk, pbk-kernel, pbk-server.
@pytest.mark.parametrize(
    "name", ["Hello", "2fa", "with-dash", "class", "", "../escape", "sdk", "plugin_sdk", "kernel", "server"]
)
def test_refuses_names_that_are_not_package_names(tmp_path: Path, name: str) -> None:
    with pytest.raises(ScaffoldError, match="invalid plugin name"):
        write_plugin(name, tmp_path / "out")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(("name", "reason"), [
    ("sdk", "the package pbk_sdk already exists"),
    ("kernel", "pbk's own distribution pbk-kernel already exists"),
])
def test_names_what_a_refused_name_would_shadow_in_one_line(tmp_path: Path, name: str, reason: str) -> None:
    result = pbk("plugin", "new", name, cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [f"Error: invalid plugin name {name!r}: {reason}"]


@pytest.mark.parametrize(("version", "requirement"), [
    ("0.1.0", "pbk-plugin-sdk>=0.1,<0.2"),
    ("1.0rc1", "pbk-plugin-sdk>=1.0,<2"),
    ("2.3.dev4", "pbk-plugin-sdk>=2.3,<3"),
])
def test_the_sdk_requirement_reads_pre_releases(monkeypatch: pytest.MonkeyPatch, version: str, requirement: str) -> None:
    monkeypatch.setattr("pbk.scaffold.sdk_version", version)
    assert sdk_requirement() == requirement


def test_refuses_an_existing_folder_in_one_line(tmp_path: Path) -> None:
    (tmp_path / "pbk-hello").mkdir()
    result = pbk("plugin", "new", "hello", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "Error: pbk-hello already exists; choose another folder with --path"
    ]
    assert list((tmp_path / "pbk-hello").iterdir()) == []


def test_refuses_the_name_of_an_installed_plugin(tmp_path: Path) -> None:
    with pytest.raises(ScaffoldError, match=r"a plugin named 'records' is already installed \(pbk-records "):
        write_plugin("records", tmp_path / "out")


@pytest.mark.slow
def test_a_new_plugin_installs_passes_its_tests_and_serves_its_route(tmp_path: Path) -> None:
    created = pbk("plugin", "new", "greeter", "--path", str(tmp_path / "pbk-greeter"), cwd=tmp_path)
    assert created.returncode == 0, created.stderr
    build_wheels([tmp_path / "pbk-greeter"], tmp_path / "wheels")
    python = layered_venv(tmp_path / "venv")
    install_wheels(python, tmp_path / "wheels", ["pbk-greeter[test]"])

    tests = subprocess.run(
        [str(python), "-m", "pytest", "-W", "error", "-p", "no:cacheprovider"],
        check=False, cwd=tmp_path / "pbk-greeter", capture_output=True, text=True, timeout=300,
    )
    assert tests.returncode == 0, tests.stdout + tests.stderr
    assert tests.stdout.strip().splitlines()[-1].strip("= ").startswith("3 passed in"), tests.stdout
    assert "warning" not in tests.stdout.lower()

    listed = pbk("plugins", "--json", python=python, cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    rows = {row["name"]: row for row in json.loads(listed.stdout)}
    assert rows["greeter"]["distribution"] == "pbk-greeter"
    assert rows["greeter"]["loaded"] is True
    assert rows["greeter"]["hooks"] == ["pbk_register_routes", "pbk_startup"]

    server = start_live_server(tmp_path / "pb_data", python=str(python))
    try:
        answer = httpx.get(f"{server.url}/api/greeter/hello")
        assert answer.status_code == 200
        assert answer.json() == {"message": "Hello from greeter."}
        assert answer.headers["x-pbk-plugin"] == "greeter"
    finally:
        assert server.stop() == 0, server.output()
