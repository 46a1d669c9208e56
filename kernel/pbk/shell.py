"""``pbk shell``: Python with the app started, for poking at data and plugins.

The app runs on an event loop in a background thread, so the REPL stays synchronous: ``run``
awaits any coroutine there, ``query``/``execute`` reach the database through ``app.db``.
On a terminal this is ptpython; with piped input, a plain console that reads statements
from stdin without prompts and exits non-zero when one of them failed.
"""

from __future__ import annotations

import asyncio
import code
import sys
import threading
from collections.abc import Coroutine
from typing import Any

from .app import App

BANNER = """pbk shell: `app` is started on {data_dir}.
  run(coro)               await a coroutine on the app's loop
  query(sql, *params)     read rows (list of dicts)
  execute(sql, *params)   write in one transaction, returns the number of changed rows"""


def _rows(conn: Any, sql: str, params: tuple[Any, ...]) -> list[dict[str, Any]]:
    cursor = conn.execute(sql, params)
    try:
        names = [d[0] for d in cursor.get_description()]
    except Exception:  # statements without result columns
        return []
    return [dict(zip(names, row, strict=True)) for row in cursor]


def _changes(conn: Any, sql: str, params: tuple[Any, ...]) -> int:
    before = conn.total_changes()
    conn.execute(sql, params).fetchall()
    return conn.total_changes() - before


def namespace(app: App, loop: asyncio.AbstractEventLoop) -> dict[str, Any]:
    def run(coro: Coroutine[Any, Any, Any]) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, loop).result()

    def query(sql: str, *params: Any) -> list[dict[str, Any]]:
        return run(app.db.read(_rows, sql, params))

    def execute(sql: str, *params: Any) -> int:
        return run(app.db.write(_changes, sql, params))

    return {"app": app, "run": run, "query": query, "execute": execute}


class _PipedConsole(code.InteractiveConsole):
    """Reads stdin without echoing prompts; remembers whether any statement failed."""

    failed = False

    def raw_input(self, prompt: str = "") -> str:
        line = sys.stdin.readline()
        if not line:
            raise EOFError
        return line.rstrip("\n")

    def showtraceback(self) -> None:
        self.failed = True
        super().showtraceback()

    def showsyntaxerror(self, filename: str | None = None, **kwargs: Any) -> None:
        self.failed = True
        super().showsyntaxerror(filename, **kwargs)


def run_shell(app: App) -> int:
    """Run the shell until EOF; returns the process exit code."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="pbk-shell-loop", daemon=True)
    thread.start()
    names = namespace(app, loop)
    run = names["run"]
    run(app.start())
    banner = BANNER.format(data_dir=app.data_dir)
    try:
        if sys.stdin.isatty():
            from ptpython.repl import embed

            print(banner)
            embed(globals=names, title="pbk shell")
            return 0
        console = _PipedConsole(names)
        console.interact(banner="", exitmsg="")
        return 1 if console.failed else 0
    finally:
        run(app.stop())
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=5)
