"""Every distribution declares what it imports and the plugins it requires; the product
wheel carries only metadata.

A third-party import that a distribution does not declare works here only because another
distribution happens to bring it; installed alone (or after that one drops it) the import
fails. So every module of every distribution is parsed and each top-level import outside the
standard library is looked up among the distribution's declared requirements.
"""

from __future__ import annotations

import ast
import email
import importlib
import sys
import tomllib
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest
from fresh_venv import build_wheels
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
PRODUCT = ROOT / "pyproject.toml"
COMPONENT_PROJECTS = sorted(
    [ROOT / "kernel" / "pyproject.toml", ROOT / "plugin-sdk" / "pyproject.toml",
     *(ROOT / "plugins").glob("*/pyproject.toml")]
)


@dataclass(frozen=True)
class Distribution:
    """One pbk distribution as its pyproject.toml declares it."""

    pyproject: Path
    name: str
    packages: tuple[str, ...]
    dependencies: frozenset[str]
    extras: dict[str, frozenset[str]]
    plugins: dict[str, str]  # pbk plugin name -> its module

    @classmethod
    def read(cls, pyproject: Path) -> Distribution:
        data = tomllib.loads(pyproject.read_text())
        project = data["project"]
        return cls(
            pyproject=pyproject,
            name=canonicalize_name(project["name"]),
            packages=tuple(data["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"]),
            dependencies=_requirement_names(project.get("dependencies", [])),
            extras={
                extra: _requirement_names(requirements)
                for extra, requirements in project.get("optional-dependencies", {}).items()
            },
            plugins=dict(project.get("entry-points", {}).get("pbk.plugins", {})),
        )

    def modules(self) -> Iterator[Path]:
        for package in self.packages:
            yield from sorted((self.pyproject.parent / package).rglob("*.py"))

    def extra_of(self, module: Path) -> str | None:
        """Modules in a subpackage named like an extra (``pbk_sdk/testing/``) may also use
        that extra's requirements. (pytest loads ``pbk_sdk.testing`` without the extra too:
        it imports the extra's packages only when a fixture runs, which
        ``plugin-sdk/tests/test_plugin_without_extra.py`` checks in a real pytest.)"""
        parts = module.relative_to(self.pyproject.parent).parts
        return next((part for part in parts[1:-1] if part in self.extras), None)


def _requirement_names(requirements: list[str]) -> frozenset[str]:
    return frozenset(canonicalize_name(Requirement(text).name) for text in requirements)


@dataclass(frozen=True)
class Import:
    module: Path
    line: int
    name: str  # the top-level name, as in ``import name`` or ``from name.sub import x``


def required_imports(module: Path) -> Iterator[Import]:
    """Absolute imports, except those guarded by ``except ImportError`` (optional by design)."""
    tree = ast.parse(module.read_text(), str(module))
    optional: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Try) and any(_catches_import_error(h) for h in node.handlers):
            optional.update(id(inner) for stmt in node.body for inner in ast.walk(stmt))
    for node in ast.walk(tree):
        if id(node) in optional:
            continue
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(module, node.lineno, alias.name.partition(".")[0])
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield Import(module, node.lineno, node.module.partition(".")[0])


def _catches_import_error(handler: ast.ExceptHandler) -> bool:
    caught = handler.type
    names = caught.elts if isinstance(caught, ast.Tuple) else [caught]
    return any(isinstance(n, ast.Name) and n.id in ("ImportError", "ModuleNotFoundError") for n in names)


def distributions_providing(name: str, first_party: dict[str, str]) -> set[str]:
    """Which distributions an import name comes from: pbk's own packages from the
    pyprojects (editable installs leave no top-level record), the rest from what is installed."""
    if name in first_party:
        return {first_party[name]}
    return {canonicalize_name(d) for d in installed_packages().get(name, [])}


@cache
def installed_packages() -> Mapping[str, list[str]]:
    return packages_distributions()


DISTRIBUTIONS = [Distribution.read(path) for path in COMPONENT_PROJECTS]


@pytest.mark.parametrize("distribution", DISTRIBUTIONS, ids=lambda d: d.name)
def test_every_third_party_import_is_declared_by_its_distribution(distribution: Distribution) -> None:
    first_party = {package: d.name for d in DISTRIBUTIONS for package in d.packages}
    missing: list[str] = []
    for module in distribution.modules():
        extra = distribution.extra_of(module)
        allowed = distribution.dependencies | (distribution.extras[extra] if extra else frozenset())
        for found in required_imports(module):
            if found.name in sys.stdlib_module_names or first_party.get(found.name) == distribution.name:
                continue
            providers = distributions_providing(found.name, first_party)
            if providers & allowed:
                continue
            where = f"[project.optional-dependencies] {extra}" if extra else "[project] dependencies"
            what = " or ".join(sorted(providers)) or f"the distribution that provides {found.name!r}"
            missing.append(
                f"{module.relative_to(ROOT)}:{found.line} imports {found.name!r}: "
                f"add {what} to {where} in {distribution.pyproject.relative_to(ROOT)}"
            )
    assert not missing, "imports and declared requirements disagree:\n" + "\n".join(missing)


@pytest.mark.parametrize(
    "distribution", [d for d in DISTRIBUTIONS if d.plugins], ids=lambda d: d.name
)
def test_a_plugin_declares_the_distributions_of_the_plugins_it_requires(distribution: Distribution) -> None:
    """``pip install`` of a plugin must bring the plugins it ``requires``: pbk refuses to
    load it without them."""
    provider = {plugin: d.name for d in DISTRIBUTIONS for plugin in d.plugins}
    missing = [
        f"plugin {name!r} requires plugin {required!r}: add {provider.get(required)} to "
        f"[project] dependencies in {distribution.pyproject.relative_to(ROOT)}"
        for name, target in distribution.plugins.items()
        for required in importlib.import_module(target).PLUGIN.requires
        if provider.get(required) not in distribution.dependencies
    ]
    assert not missing, "\n".join(missing)


def test_the_product_requires_every_component_and_nothing_else() -> None:
    components = tomllib.loads(PRODUCT.read_text())["tool"]["hatch"]["metadata"]["hooks"]["custom"]["components"]
    assert sorted(ROOT / folder / "pyproject.toml" for folder in components) == COMPONENT_PROJECTS


def product_wheel(wheel_dir: Path) -> tuple[list[str], list[str]]:
    """Build the product; its files and its Requires-Dist lines."""
    build_wheels([ROOT], wheel_dir)
    (wheel,) = wheel_dir.glob("pbk_server-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        files = archive.namelist()
        (metadata,) = (name for name in files if name.endswith(".dist-info/METADATA"))
        requires = email.message_from_bytes(archive.read(metadata)).get_all("Requires-Dist") or []
    return files, requires


@pytest.mark.slow
def test_the_product_wheel_is_metadata_naming_the_components_of_the_checkout(tmp_path: Path) -> None:
    files, requires = product_wheel(tmp_path)
    assert files and all(name.split("/")[0].endswith(".dist-info") for name in files), files
    assert sorted(requires) == sorted(
        f"{d.name} @ {d.pyproject.parent.as_uri()}" for d in DISTRIBUTIONS
    )


@pytest.mark.slow
def test_the_product_wheel_for_the_index_pins_the_components(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PBK_RELEASE", "1")
    files, requires = product_wheel(tmp_path)
    assert all(name.split("/")[0].endswith(".dist-info") for name in files), files
    versions = {d.name: tomllib.loads(d.pyproject.read_text())["project"]["version"] for d in DISTRIBUTIONS}
    assert sorted(requires) == sorted(f"{name}=={version}" for name, version in versions.items())


@pytest.mark.slow
def test_the_kernel_wheel_carries_the_plugin_template(tmp_path: Path) -> None:
    build_wheels([ROOT / "kernel"], tmp_path)
    (wheel,) = tmp_path.glob("pbk_kernel-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        templates = {name for name in archive.namelist() if name.startswith("pbk/plugin_template/")}
    shipped = {f"pbk/plugin_template/{path.name}" for path in (ROOT / "kernel/pbk/plugin_template").iterdir()}
    assert templates == shipped
