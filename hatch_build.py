"""The product's dependencies: the components listed in pyproject.toml, from this checkout.

Built from a checkout (``pip install .``), the product takes each component from its folder,
as the index may not have that version yet. The index refuses such references, so a build
for publishing (``PBK_RELEASE=1``) pins each component to the version in its folder instead.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

from hatchling.metadata.plugin.interface import MetadataHookInterface


class ComponentDependencies(MetadataHookInterface):
    def update(self, metadata: dict[str, Any]) -> None:
        release = os.environ.get("PBK_RELEASE") == "1"
        dependencies = []
        for folder in self.config["components"]:
            path = Path(self.root, folder)
            project = tomllib.loads((path / "pyproject.toml").read_text())["project"]
            reference = f"=={project['version']}" if release else f" @ {path.as_uri()}"
            dependencies.append(project["name"] + reference)
        metadata["dependencies"] = dependencies
