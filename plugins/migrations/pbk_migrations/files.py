"""A project's migration files: ``<unix seconds>_<name>.py`` in the migrations dir, each with
``up(app)`` and optionally ``down(app)``, applied in file-name order as PocketBase applies its
``pb_migrations``."""

from __future__ import annotations

import importlib.util
import inspect
import os
import re
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from pbk_sdk.errors import ApiError

Step = Callable[[Any], Any]


class MigrationError(Exception):
    """A migration that cannot load, be applied or be reverted; ``str()`` is the operator's
    one line, naming the file."""


@dataclass(frozen=True)
class MigrationFile:
    path: Path

    @property
    def name(self) -> str:
        """What ``_migrations`` records: the file name, as PocketBase records ``x.js``."""
        return self.path.name

    def load(self) -> tuple[Step, Step | None]:
        """``(up, down)`` of the file, imported afresh (never put in ``sys.modules``)."""
        spec = importlib.util.spec_from_file_location(f"pb_migrations.{self.path.stem}", self.path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        try:
            code = compile(self.path.read_bytes(), str(self.path), "exec", dont_inherit=True)
            exec(code, module.__dict__)  # noqa: S102 - running it is the point; exec_module would write __pycache__ there
        except Exception as exc:
            raise MigrationError(f"cannot load migration {self.path}: {self.explain(exc)}") from exc
        up, down = _step(module, "up"), _step(module, "down")
        if up is None:
            raise MigrationError(f"migration {self.path} has no up(app) function")
        if any(inspect.iscoroutinefunction(step) for step in (up, down)):
            # It would return an unawaited coroutine and be recorded as applied unrun.
            raise MigrationError(f"migration {self.path}: up(app) and down(app) must be plain functions, not async")
        return up, down

    def explain(self, exc: BaseException) -> str:
        """The error in one line, at its line in this file when it was raised there."""
        text = exc.one_line() if isinstance(exc, ApiError) else f"{type(exc).__name__}: {exc}"
        if isinstance(exc, SyntaxError) and exc.lineno:
            return f"line {exc.lineno}: {text}"
        here = os.path.abspath(self.path)
        lines = [f.lineno for f in traceback.extract_tb(exc.__traceback__) if os.path.abspath(f.filename) == here]
        return f"line {lines[-1]}: {text}" if lines else text


def _step(module: ModuleType, name: str) -> Step | None:
    step = getattr(module, name, None)
    return step if callable(step) else None


def migration_files(folder: Path) -> list[MigrationFile]:
    """The ``*.py`` files of ``folder`` by name (``_`` and ``.`` files are not migrations)."""
    if not folder.is_dir():
        return []
    return [
        MigrationFile(path) for path in sorted(folder.glob("*.py"), key=lambda p: p.name)
        if not path.name.startswith(("_", "."))
    ]


def snake_case(name: str) -> str:
    """``fooBar baz`` to ``foo_bar_baz``, as PocketBase's ``inflector.Snakecase`` names files."""
    words = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name.strip())
    return re.sub(r"[^A-Za-z0-9]+", "_", words).strip("_").lower()


def new_file_name(folder: Path, what: str) -> str:
    """``<unix seconds>_<what>.py``, later than every file already there, so that replaying the
    folder keeps the order of changes made within the same second."""
    stamp = int(time.time())
    for path in folder.glob("*.py") if folder.is_dir() else ():
        prefix = path.name.partition("_")[0]
        if prefix.isdigit() and int(prefix) >= stamp:
            stamp = int(prefix) + 1
    return f"{stamp}_{what}.py"
