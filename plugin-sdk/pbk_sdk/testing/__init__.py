"""pytest fixtures for pbk and its plugins (registered as the ``pbk`` pytest plugin).

Everything is real: a temp data dir with real SQLite files, the app built by the kernel with
an explicit plugin list, falcon's ``ASGIConductor`` for in-process requests (one lifespan per
test), and ``live_server`` running ``pbk serve`` under uvicorn in a subprocess on a loopback
port. Override ``pbk_plugins`` (and ``pbk_config``) in your ``conftest.py``::

    @pytest.fixture
    def pbk_plugins():
        return ["records", "auth", "my_plugin"]

The fixtures need the SDK's ``[testing]`` extra (the kernel, httpx, pytest-asyncio). Without
it this plugin still loads, so plain ``pytest`` runs; a test using a fixture that needs the
extra fails and says how to install it.

``pocketbase_and_pbk(base_dir, plugins)`` starts the real PocketBase and ``pbk serve``, each new
with the same superuser, and yields them signed in (``Program``: ``client``, ``call()``), for
tests that compare the two programs' answers.

``postgres_url`` is a fresh PostgreSQL database (dropped after the test); ``PBK_TEST_DB=postgresql``
runs the fixtures above (and so the existing suite) on PostgreSQL: see ``postgres.py``.
"""

from __future__ import annotations

from .admin import CreateCollection, Superuser, create_collection, pbk_superuser
from .apps import client_for, pbk_app, pbk_client, pbk_config, pbk_plugins
from .commands import RunCommand, pbk_cli
from .js import js_sdk
from .pocketbase import (
    pocketbase_binary,
    pocketbase_factory,
    pocketbase_superuser,
    start_pocketbase,
    superuser_token,
)
from .postgres import pbk_test_database, postgres_database, postgres_url
from .programs import Program, pocketbase_and_pbk
from .s3 import make_bucket, moto_server, s3_settings
from .servers import (
    LiveServer,
    free_port,
    launch,
    live_server,
    live_server_factory,
    pbk_live_port,
    start_live_server,
)

# pytest registers the fixtures among these names, as this module is the plugin.
__all__ = [
    "CreateCollection",
    "LiveServer",
    "Program",
    "RunCommand",
    "Superuser",
    "client_for",
    "create_collection",
    "free_port",
    "js_sdk",
    "launch",
    "live_server",
    "live_server_factory",
    "make_bucket",
    "moto_server",
    "pbk_app",
    "pbk_cli",
    "pbk_client",
    "pbk_config",
    "pbk_live_port",
    "pbk_plugins",
    "pbk_superuser",
    "pbk_test_database",
    "pocketbase_and_pbk",
    "pocketbase_binary",
    "pocketbase_factory",
    "pocketbase_superuser",
    "postgres_database",
    "postgres_url",
    "s3_settings",
    "start_live_server",
    "start_pocketbase",
    "superuser_token",
]
