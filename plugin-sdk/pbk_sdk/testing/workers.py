"""Which worker answered: a plugin for tests of behaviour across ``pbk serve``'s worker
processes. Write it into the ``--pluginsDir`` of the server under test; ``GET WHOAMI`` then
answers ``{"worker": n, "workers": count, "pid": process id}`` from the worker that took the
request, so a test can pin a connection to a worker or see that each worker did its part."""

from __future__ import annotations

from pathlib import Path

WHOAMI = "/api/_test/whoami"

WHOAMI_PLUGIN = f'''
import os

from pbk_sdk import Route, hookimpl


class Whoami:
    def __init__(self, app):
        self.app = app

    async def on_get(self, req, resp):
        cluster = self.app.cluster
        resp.media = {{"worker": cluster.worker, "workers": cluster.workers, "pid": os.getpid()}}


@hookimpl
def pbk_register_routes(app):
    return [Route("{WHOAMI}", Whoami(app))]
'''


def write_whoami_plugin(plugins_dir: Path) -> Path:
    """Write the plugin into ``plugins_dir`` (made if missing) and return the file's path."""
    plugins_dir.mkdir(parents=True, exist_ok=True)
    path = plugins_dir / "whoami.py"
    path.write_text(WHOAMI_PLUGIN)
    return path
