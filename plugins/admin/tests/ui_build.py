"""Building the dashboard from its sources in a cache directory, as a clean checkout would.

``npm ci`` installs exactly the lock file's packages once per lock file into
``~/.cache/pbk/admin-ui/<hash>`` (``PBK_ADMIN_UI_CACHE``); each build copies the sources
beside them and writes into a directory of the caller's choice. A file lock keeps two test
processes from installing or building in the same directory at once.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

from pbk_sdk.testing.caches import exclusive

PLUGIN = Path(__file__).resolve().parents[1]
UI = PLUGIN / "ui"
SHIPPED = PLUGIN / "pbk_admin" / "dist"
SOURCES = ("index.html", "vite.config.js", "src", "scripts")
MANIFESTS = ("package.json", "package-lock.json")
INSTALLED = ".installed"  # written once npm ci has finished


def cache_root() -> Path:
    return Path(os.environ.get("PBK_ADMIN_UI_CACHE", Path.home() / ".cache" / "pbk" / "admin-ui"))


def build(out_dir: Path) -> None:
    """Build the sources into ``out_dir`` with the lock file's packages."""
    if shutil.which("npm") is None or shutil.which("node") is None:
        raise RuntimeError("rebuilding the dashboard needs node (>= 20.19) and npm on PATH")
    digest = hashlib.sha256(b"".join((UI / name).read_bytes() for name in MANIFESTS)).hexdigest()
    work = cache_root() / digest[:16]
    with exclusive(cache_root() / f"{digest[:16]}.lock"):
        if not (work / INSTALLED).is_file():
            shutil.rmtree(work, ignore_errors=True)
            work.mkdir(parents=True)
            for name in MANIFESTS:
                shutil.copy2(UI / name, work / name)
            _run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], work, {})
            (work / INSTALLED).write_text(digest)
        for name in SOURCES:
            target = work / name
            if target.is_dir():
                shutil.rmtree(target)
            if (UI / name).is_dir():
                shutil.copytree(UI / name, target)
            else:
                shutil.copy2(UI / name, target)
        _run(["npm", "run", "build"], work, {"PBK_ADMIN_OUT_DIR": str(out_dir)})


def _run(command: list[str], cwd: Path, env: dict[str, str]) -> None:
    done = subprocess.run(command, cwd=cwd, env={**os.environ, **env}, capture_output=True,
                          text=True, timeout=600, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed in {cwd}:\n{done.stdout}\n{done.stderr}")


def tree(root: Path) -> dict[str, bytes]:
    return {path.relative_to(root).as_posix(): path.read_bytes()
            for path in sorted(root.rglob("*")) if path.is_file()}
