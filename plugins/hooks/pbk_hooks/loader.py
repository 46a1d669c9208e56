"""Loading hook files: run each, swap it in, and reload it when it changes.

Every worker loads the files itself at start and watches the folder with ``watchfiles``, so
each applies a change on its own within a moment of the save. A file that fails (a syntax
error, an exception while it runs, a bad cron expression) is logged with its file, line and
message, and its previous version keeps running; a file removed takes its hooks with it.
"""

from __future__ import annotations

import asyncio
import logging
import traceback
from pathlib import Path
from typing import Any

import watchfiles
from pbk_sdk.errors import StartupError
from pbk_sdk.interfaces import App

from .registry import HookFile, HookLineError, check_routes_free, collecting, done_collecting, swap

log = logging.getLogger(__name__)

SUFFIX = ".pb.py"


def is_hook_file(path: Path) -> bool:
    return path.name.endswith(SUFFIX) and not path.name.startswith(".")


def where_failed(path: Path, exc: BaseException) -> str:
    """``file:line: message``, the line being the hook file's (not the library's it called)."""
    if isinstance(exc, SyntaxError) and exc.filename == str(path):
        return f"{path}:{exc.lineno}: SyntaxError: {exc.msg}"
    if isinstance(exc, HookLineError):
        return f"{path}:{exc.line}: {exc}"
    line = next((frame.lineno for frame in reversed(traceback.extract_tb(exc.__traceback__))
                 if frame.filename == str(path)), None)
    return f"{path}:{line or 0}: {type(exc).__name__}: {exc}"


def run_file(app: App, path: Path, source: bytes) -> HookFile:
    """Run ``source``, the hook file at ``path``, in a fresh namespace and return what it
    registered."""
    code = compile(source, str(path), "exec")
    hook_file = HookFile(path)
    namespace: dict[str, Any] = {"__name__": f"pb_hooks.{path.name[: -len(SUFFIX)]}",
                                 "__file__": str(path), "app": app}
    token = collecting(hook_file)
    try:
        exec(code, namespace)  # noqa: S102 (the project's own hook file, as PocketBase runs pb_hooks)
    finally:
        done_collecting(token)
    return hook_file


#: How long a changed file's size and modification time must stay the same before it loads.
SETTLE_SECONDS = 0.05


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        status = path.stat()
    except FileNotFoundError:
        return None
    return status.st_size, status.st_mtime_ns


async def settled(path: Path) -> bool:
    """Whether ``path`` stayed unchanged for ``SETTLE_SECONDS``: a file still being written
    (saved in place, not renamed over) is not run half-written."""
    before = _stamp(path)
    await asyncio.sleep(SETTLE_SECONDS)
    return before is not None and _stamp(path) == before


class HookFiles:
    """This worker's loaded hook files, by path."""

    def __init__(self, app: App, folder: Path) -> None:
        self.app = app
        self.folder = folder
        self.loaded: dict[Path, HookFile] = {}
        self._watcher: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()

    def load_all(self, strict: bool = False) -> None:
        """Load every hook file of the folder, in name order (none when it does not exist);
        ``strict``: a file that fails raises ``StartupError`` (no watching to fix it later)."""
        if self.folder.is_dir():
            for path in sorted(self.folder.iterdir()):
                if is_hook_file(path):
                    self.load(path, strict)

    def load(self, path: Path, strict: bool = False) -> bool:
        """Load or reload ``path``; False (logged, the previous version kept) when it fails,
        ``StartupError`` instead when ``strict``."""
        path = path.resolve()
        try:
            source = path.read_bytes()
        except FileNotFoundError:  # deleted since the change was seen (the file's own are below)
            self.unload(path)
            return False
        try:
            new = run_file(self.app, path, source)
            check_routes_free(new, (other for other_path, other in self.loaded.items() if other_path != path))
            swap(self.app, self.loaded.get(path), new)
        except Exception as exc:  # whatever the file did: logged (or stops the start), old one kept
            if strict:
                raise StartupError(f"hook file failed to load: {where_failed(path, exc)}") from exc
            kept = " (its previous version keeps running)" if path in self.loaded else ""
            log.error("hook file failed to load%s: %s", kept, where_failed(path, exc))
            return False
        self.loaded[path] = new
        log.info("hook file loaded: %s (%d handlers, %d routes, %d cron jobs)",
                 path.name, len(new.events), len(new.routes), len(new.crons))
        return True

    def unload(self, path: Path) -> None:
        old = self.loaded.pop(path.resolve(), None)
        if old is not None:
            swap(self.app, old, None)
            log.info("hook file removed: %s", path.name)

    def unload_all(self) -> None:
        for path in list(self.loaded):
            self.unload(path)

    def watch(self) -> None:
        """Start reloading files as they change (when the folder exists)."""
        if self.folder.is_dir():
            self._watcher = asyncio.get_running_loop().create_task(self._watch())

    async def _watch(self) -> None:
        changes = watchfiles.awatch(self.folder, stop_event=self._stop, recursive=False,
                                    watch_filter=lambda _, name: is_hook_file(Path(name)))
        try:
            async for batch in changes:
                for path in sorted({Path(name) for _, name in batch}):
                    if path.is_file():
                        if await settled(path):  # else its writer's next change comes later
                            self.load(path)
                    else:
                        self.unload(path)
        except Exception:  # the folder went away, the system's watcher failed: serve on
            log.exception("no longer watching %s: hook files load again at the next start", self.folder)

    async def stop(self) -> None:
        self._stop.set()
        if self._watcher is not None:
            await self._watcher
            self._watcher = None
