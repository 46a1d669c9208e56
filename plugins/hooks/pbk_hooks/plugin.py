"""The hooks plugin: a project's own hook files (``--hooksDir``, default ``pb_hooks``), loaded
last at start, in every worker, and reloaded when they change (``--hooksWatch``)."""

from __future__ import annotations

from pbk_sdk import PluginInfo, hookimpl
from pbk_sdk.interfaces import App
from pbk_sdk.state import StateKey

from .loader import HookFiles

PLUGIN = PluginInfo(
    name="hooks",
    requires=("crons",),
    description="Hook files (pb_hooks/*.pb.py): events, routes and cron jobs, reloaded on change.",
)

HOOK_FILES: StateKey[HookFiles] = StateKey("hooks.files")


@hookimpl(trylast=True)
def pbk_startup(app: App) -> None:
    files = app.state[HOOK_FILES] = HookFiles(app, app.config.hooks_dir)
    files.load_all(strict=not app.config.hooks_watch)  # as PocketBase, without watching
    if app.config.hooks_watch:
        files.watch()


@hookimpl
async def pbk_shutdown(app: App) -> None:
    files = app.state.pop(HOOK_FILES)
    if files is not None:
        await files.stop()
        files.unload_all()
