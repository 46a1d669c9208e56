"""``pbk shell``: Python with the app started, for poking at data and plugins.

The app runs on an event loop in a background thread. Plain statements run in the main thread,
where the helpers block until the loop has answered; a statement with a top-level ``await``
runs as a coroutine on the app's loop, where the helpers return awaitables instead
(``rows = await query("SELECT 1")``). On a terminal this is ptpython; with piped input, a
console that reads statements from stdin without prompts (the banner goes to stderr, so stdout
carries only what the statements print) and exits non-zero when one of them failed.
"""

from __future__ import annotations

import ast
import asyncio
import code
import inspect
import sys
import threading
import types
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import apsw

from .app import App

T = TypeVar("T")
Rows = list[dict[str, Any]]

AWAIT_NOTE = "Statements using top-level `await` run on the app's loop; there helpers return awaitables."


def _rows(conn: apsw.Connection, sql: str, params: tuple[Any, ...]) -> Rows:
    cursor = conn.execute(sql, params)
    try:
        names = [d[0] for d in cursor.get_description()]
    except apsw.ExecutionCompleteError:  # statements without result columns
        return []
    return [dict(zip(names, row, strict=True)) for row in cursor]


def _changes(conn: apsw.Connection, sql: str, params: tuple[Any, ...]) -> int:
    before = conn.total_changes()
    conn.execute(sql, params).fetchall()
    return conn.total_changes() - before


def helpers(app: App, loop: asyncio.AbstractEventLoop) -> dict[str, Callable[..., Any]]:
    """The shell's helper functions by name; each blocks for its result, except when called on
    the app's loop (a statement with ``await``), where it returns the awaitable."""

    def resolve(coro: Coroutine[Any, Any, T]) -> T | Coroutine[Any, Any, T]:
        try:
            on_app_loop = asyncio.get_running_loop() is loop
        except RuntimeError:
            on_app_loop = False
        if on_app_loop:
            return coro
        return asyncio.run_coroutine_threadsafe(coro, loop).result()

    def run(coro: Coroutine[Any, Any, Any]) -> Any:
        """Run a coroutine on the app's loop and return its result: run(app.db.read(fn))."""
        return resolve(coro)

    def query(sql: str, *params: Any) -> Rows | Coroutine[Any, Any, Rows]:
        """Read rows as dicts: query("SELECT id FROM users WHERE email = ?", email)."""
        return resolve(app.db.read(_rows, sql, params))

    def execute(sql: str, *params: Any) -> int | Coroutine[Any, Any, int]:
        """Write in one transaction and return the number of changed rows."""
        return resolve(app.db.write(_changes, sql, params))

    return {"run": run, "query": query, "execute": execute}


def banner(app: App, functions: dict[str, Callable[..., Any]]) -> str:
    """What the shell prints on start: the app's data dir and each helper's first doc line."""
    calls = {name: f"{name}({_parameters(fn)})" for name, fn in functions.items()}
    width = max(map(len, calls.values()), default=0)
    lines = [f"pbk shell: `app` is started on {app.data_dir}."]
    for name, fn in functions.items():
        summary = (inspect.getdoc(fn) or "").splitlines()[0]
        lines.append(f"  {calls[name]:<{width}}  {summary}")
    lines.append(AWAIT_NOTE)
    return "\n".join(lines)


def _parameters(fn: Callable[..., Any]) -> str:
    return ", ".join(
        f"*{p.name}" if p.kind is inspect.Parameter.VAR_POSITIONAL else p.name
        for p in inspect.signature(fn).parameters.values()
    )


class _PipedConsole(code.InteractiveConsole):
    """Reads stdin without echoing prompts, runs ``await`` statements on the app's loop (as
    ``python -m asyncio`` does) and remembers whether any statement failed."""

    failed = False

    def __init__(self, names: dict[str, Any], loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(names)
        self.compile.compiler.flags |= ast.PyCF_ALLOW_TOP_LEVEL_AWAIT
        self.loop = loop

    def raw_input(self, prompt: str = "") -> str:
        line = sys.stdin.readline()
        if not line:
            raise EOFError
        return line.rstrip("\n")

    def runcode(self, code: types.CodeType) -> None:
        try:
            result = types.FunctionType(code, self.locals)()
            if inspect.iscoroutine(result):
                asyncio.run_coroutine_threadsafe(result, self.loop).result()
        except SystemExit:
            raise
        except BaseException:  # noqa: BLE001 (as code.InteractiveConsole: show it, go on)
            self.showtraceback()

    def showtraceback(self) -> None:
        self.failed = True
        super().showtraceback()

    def showsyntaxerror(self, filename: str | None = None, **kwargs: Any) -> None:
        self.failed = True
        super().showsyntaxerror(filename, **kwargs)


def _terminal_repl(names: dict[str, Any], loop: asyncio.AbstractEventLoop) -> Any:
    """ptpython, with ``await`` statements run on the app's loop (its own top-level ``await``
    needs a running loop of its own, which the synchronous REPL does not have)."""
    from ptpython.repl import PythonRepl

    class AppLoopRepl(PythonRepl):
        def eval(self, line: str) -> object:
            for mode in ("eval", "exec"):
                try:
                    compiled = self._compile_with_flags(line, mode)
                except SyntaxError:
                    continue
                if not compiled.co_flags & inspect.CO_COROUTINE:
                    break
                coro = eval(compiled, self.get_globals(), self.get_locals())
                result = asyncio.run_coroutine_threadsafe(coro, loop).result()
                if mode == "exec":
                    return None
                self._store_eval_result(result)
                return result
            return super().eval(line)

    repl = AppLoopRepl(get_globals=lambda: names, get_locals=lambda: names)
    repl.terminal_title = "pbk shell"
    return repl


def run_shell(app: App) -> int:
    """Run the shell until EOF; returns the process exit code."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="pbk-shell-loop", daemon=True)
    thread.start()
    functions = helpers(app, loop)
    names: dict[str, Any] = {"app": app, **functions}
    try:
        functions["run"](app.start())
        if sys.stdin.isatty():
            print(banner(app, functions))
            _terminal_repl(names, loop).run()
            return 0
        print(banner(app, functions), file=sys.stderr)
        console = _PipedConsole(names, loop)
        console.interact(banner="", exitmsg="")
        return 1 if console.failed else 0
    finally:
        try:
            functions["run"](app.stop())
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout=5)
            if not thread.is_alive():  # a loop still running cannot be closed
                loop.close()
