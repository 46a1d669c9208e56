"""Programs from Debian's packages that tests drive (chromium, haproxy), installed when missing."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from .caches import exclusive


def debian_program(package: str, path: str, tests: str) -> str:
    """The program at ``path`` (or on PATH), installing ``package`` with apt-get under a file lock
    when missing (CI runs as root); skips ``tests``, saying why, only where apt-get cannot run."""
    name = Path(path).name
    found = shutil.which(name) or (path if Path(path).is_file() else None)
    if found:
        return found
    if shutil.which("apt-get") is None or os.geteuid() != 0:
        pytest.skip(f"{tests.upper()} DID NOT RUN: Debian's {package} is missing and apt-get cannot "
                    "install it here (needs apt-get as root)")
    with exclusive(Path.home() / ".cache" / "pbk" / f"{package}-install.lock"):
        if not Path(path).is_file():
            install = ["apt-get", "install", "-y", "--no-install-recommends", package]
            if subprocess.run(install, capture_output=True, check=False).returncode != 0:
                subprocess.run(["apt-get", "update"], capture_output=True, check=True)
                subprocess.run(install, capture_output=True, check=True)
    return path
