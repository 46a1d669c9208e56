"""The dashboard shipped in the package is the build of the sources beside it, and the
wheel carries it."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

from ui_build import PLUGIN, SHIPPED, build, tree


def test_shipped_build_matches_sources(tmp_path: Path) -> None:
    out = tmp_path / "dist"
    build(out)
    rebuilt, shipped = tree(out), tree(SHIPPED)
    advice = "rebuild: cd plugins/admin/ui && npm ci && npm run build, then commit pbk_admin/dist"
    assert sorted(rebuilt) == sorted(shipped), advice
    differing = [name for name in rebuilt if rebuilt[name] != shipped[name]]
    assert not differing, f"{differing} differ from a fresh build; {advice}"


def test_the_wheel_carries_the_build(tmp_path: Path) -> None:
    """So installing needs no Node: the package holds every shipped file."""
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                           "--quiet", "--wheel-dir", str(tmp_path), str(PLUGIN)],
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    (wheel,) = tmp_path.glob("pbk_admin-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {f"pbk_admin/dist/{name}" for name in tree(SHIPPED)} <= names
    assert not any(name.startswith(("ui/", "pbk_admin/ui")) for name in names)
