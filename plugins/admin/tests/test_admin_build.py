"""The dashboard shipped in the package is the build of the sources beside it."""

from __future__ import annotations

from pathlib import Path

from ui_build import SHIPPED, build, tree


def test_shipped_build_matches_sources(tmp_path: Path) -> None:
    out = tmp_path / "dist"
    build(out)
    rebuilt, shipped = tree(out), tree(SHIPPED)
    advice = "rebuild: cd plugins/admin/ui && npm ci && npm run build, then commit pbk_admin/dist"
    assert sorted(rebuilt) == sorted(shipped), advice
    differing = [name for name in rebuilt if rebuilt[name] != shipped[name]]
    assert not differing, f"{differing} differ from a fresh build; {advice}"
