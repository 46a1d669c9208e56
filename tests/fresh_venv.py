"""Fresh virtual environments for installing packages the way their users do.

A nested environment starts empty; a ``.pth`` file adds the site directories of the
environment running the tests after its own, as ``--system-site-packages`` does for the base
interpreter. So pbk, its dependencies and the build tools of requirements-dev.txt are there
without a download and whatever the machine's base interpreter has, while what a test installs
lands in the nested environment only.
"""

from __future__ import annotations

import site
import subprocess
import sys
import venv
from pathlib import Path


def layered_venv(path: Path) -> Path:
    """Create the environment at ``path`` and return its python."""
    venv.create(path, with_pip=False)
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    outer = list(site.getsitepackages())
    if site.ENABLE_USER_SITE and Path(site.getusersitepackages()).is_dir():
        outer.append(site.getusersitepackages())
    adds = "; ".join(f"site.addsitedir({directory!r})" for directory in outer)
    (path / "lib" / version / "site-packages" / "_outer_environment.pth").write_text(f"import site; {adds}\n")
    return path / "bin" / "python"


def build_wheels(sources: list[Path], wheel_dir: Path) -> None:
    """Build with the interpreter running the tests, which has hatchling."""
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
         "--wheel-dir", str(wheel_dir), *map(str, sources)])


def install_wheels(python: Path, wheel_dir: Path, names: list[str]) -> None:
    """Install with dependencies and without an index: what a distribution requires must
    already be there (pbk, from the outer environment) or among the wheels."""
    run([str(python), "-m", "pip", "install", "--no-index", "--find-links", str(wheel_dir), *names])


def run(command: list[str]) -> None:
    result = subprocess.run(
        [*command, "--quiet", "--disable-pip-version-check"],
        check=False, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, f"{' '.join(command)}\n{result.stdout}{result.stderr}"
