"""The plugin costs a start nothing it does not need: httpx and its transports are imported on
the first request to a provider, not by every worker of an app that may never use OAuth2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

STARTED_APP = """
import asyncio, sys
from pbk import build_app

async def main():
    app = build_app(data_dir=sys.argv[1])  # every default plugin, as `pbk serve` loads them
    await app.start()
    try:
        print(sorted(name for name in ("httpx", "httpcore") if name in sys.modules))
    finally:
        await app.stop()

asyncio.run(main())
"""


def test_a_started_app_with_every_default_plugin_has_not_imported_httpx(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-c", STARTED_APP, str(tmp_path / "pb_data")],
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]", done.stdout
