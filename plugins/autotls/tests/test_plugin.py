"""autotls is a default plugin, loaded by every ``pbk serve``: loading it must not cost the
start-up of a server without HTTPS the ACME client's imports."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("acme", "josepy", "OpenSSL", "requests")


def test_loading_the_plugin_imports_no_acme_client():
    loaded = subprocess.run(
        [sys.executable, "-c", f"import sys, pbk_autotls.plugin; print(*[m for m in {HEAVY!r} if m in sys.modules])"],
        capture_output=True, text=True, check=True,
    )
    assert loaded.stdout.split() == []
