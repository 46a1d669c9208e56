"""``pbk plugin new NAME``: a plugin distribution ready to test and publish.

It follows the scheme pbk's own plugins use: plugin ``NAME`` is distribution ``pbk-NAME``
with package ``pbk_NAME``, found through entry point ``NAME`` in group ``pbk.plugins``. The
files come from ``plugin_template/`` beside this module (``$name`` style placeholders).
"""

from __future__ import annotations

import importlib.util
import keyword
import re
from importlib.metadata import PackageNotFoundError, distribution
from importlib.resources import files
from pathlib import Path
from string import Template

import click
from pbk_sdk import __version__ as sdk_version

from .plugins import discover

NAME_PATTERN = re.compile(r"[a-z][a-z0-9_]*")
RELEASE_PATTERN = re.compile(r"(\d+)\.(\d+)")

#: pbk's own distributions, refused as plugin names even where one is not installed (a
#: development checkout has no pbk-server).
PBK_DISTRIBUTIONS = ("pbk-server", "pbk-kernel", "pbk-plugin-sdk")

#: Template file -> where it goes in the new distribution (itself a template).
TEMPLATE_FILES = {
    "pyproject.toml.tmpl": "pyproject.toml",
    "README.md.tmpl": "README.md",
    "gitignore.tmpl": ".gitignore",
    "plugin.py.tmpl": "$package/__init__.py",
    "test_plugin.py.tmpl": "tests/test_$name.py",
}


class ScaffoldError(click.ClickException):
    """Why no plugin was written; the CLI prints it as one line."""


def distribution_name(name: str) -> str:
    return "pbk-" + name.replace("_", "-")


def sdk_requirement(extra: str = "") -> str:
    """The installed SDK's release series: compatible within a minor version before 1.0,
    within a major version from then on (a pre-release such as ``1.0rc1`` counts as ``1.0``)."""
    release = RELEASE_PATTERN.match(sdk_version)
    if release is None:
        raise ScaffoldError(f"cannot read a release from the pbk-plugin-sdk version {sdk_version!r}")
    major, minor = (int(part) for part in release.groups())
    upper = f"{major}.{minor + 1}" if major == 0 else f"{major + 1}"
    return f"pbk-plugin-sdk{extra}>={major}.{minor},<{upper}"


def check_name(name: str) -> None:
    if not NAME_PATTERN.fullmatch(name) or keyword.iskeyword(name):
        raise ScaffoldError(
            f"invalid plugin name {name!r}: use lowercase letters, digits and underscores, "
            "starting with a letter and not a Python keyword (it becomes a package name)"
        )
    installed = discover().get(name)
    if installed is not None:
        raise ScaffoldError(f"a plugin named {name!r} is already installed ({installed.origin})")
    taken = _taken_by(name)
    if taken:
        raise ScaffoldError(f"invalid plugin name {name!r}: {taken} already exists")


def _taken_by(name: str) -> str | None:
    """What already uses the distribution or package name plugin ``name`` would get, if
    anything: installing the plugin would shadow or break it."""
    if distribution_name(name) in PBK_DISTRIBUTIONS:
        return f"pbk's own distribution {distribution_name(name)}"
    try:
        distribution(distribution_name(name))
    except PackageNotFoundError:
        pass
    else:
        return f"the installed distribution {distribution_name(name)}"
    if importlib.util.find_spec(f"pbk_{name}") is not None:
        return f"the package pbk_{name}"
    return None


def write_plugin(name: str, target: Path) -> list[Path]:
    """Write the distribution for plugin ``name`` into the new folder ``target``."""
    check_name(name)
    if target.exists():
        raise ScaffoldError(f"{target} already exists; choose another folder with --path")
    values = {
        "name": name,
        "package": f"pbk_{name}",
        "distribution": distribution_name(name),
        "sdk_requirement": sdk_requirement(),
        "testing_requirement": sdk_requirement("[testing]"),
    }
    templates = files("pbk") / "plugin_template"
    written = []
    for source, destination in TEMPLATE_FILES.items():
        path = target / Template(destination).substitute(values)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(Template(templates.joinpath(source).read_text()).substitute(values))
        written.append(path)
    return written


@click.group(name="plugin")
def plugin_group() -> None:
    """Write new plugins."""


@plugin_group.command(name="new")
@click.argument("name")
@click.option("--path", "target", type=click.Path(path_type=Path), default=None,
              help="The folder to create (default: ./pbk-NAME).")
def new_plugin(name: str, target: Path | None) -> None:
    """Write plugin NAME as a distribution: pyproject, package, tests, README."""
    folder = target or Path(distribution_name(name))
    write_plugin(name, folder)
    click.echo(f"Wrote {distribution_name(name)} into {folder}. Next:")
    click.echo(f"  cd {folder} && pip install -e '.[test]' && python -m pytest")
