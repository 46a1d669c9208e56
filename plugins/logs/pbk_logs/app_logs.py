"""App logs: records of pbk's and the plugins' ``logging`` loggers, as PocketBase's levels.

The handler only queues an ``AppEntry`` (never touches the database, so it never blocks the
loop or a database thread); the log buffer writes it with the request logs.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from .buffer import log as buffer_log
from .rows import AppEntry
from .state import Logs

#: Loggers whose records are kept: the kernel's (``pbk``, ``pbk.*``) and the plugins'
#: (``pbk_records``, ``pbk_auth.*`` and any third-party ``pbk_<name>``) ...
PREFIX = "pbk"
#: ... except the buffer's own: a failed write said again in the next batch would fail again.
UNLOGGED = frozenset({buffer_log.name})


def pocketbase_level(levelno: int) -> int:
    """slog's numbers: DEBUG -4, INFO 0, WARNING 4, ERROR 8 (CRITICAL 12)."""
    return round((levelno - logging.INFO) * 0.4)


def python_level(level: int) -> int:
    """The ``logging`` level at and above which records reach PocketBase level ``level``."""
    return logging.INFO + int(level * 2.5)


def record_data(record: logging.LogRecord) -> dict[str, Any]:
    """``logger`` names the source; ``error`` is the exception, as PocketBase logs one;
    ``extra={"data": {...}}`` adds keys of the caller's own."""
    data: dict[str, Any] = {"logger": record.name}
    extra = getattr(record, "data", None)
    if isinstance(extra, dict):
        data.update(extra)
    if record.exc_info and record.exc_info[1] is not None:
        data["error"] = str(record.exc_info[1]) or type(record.exc_info[1]).__name__
    return data


class AppLogHandler(logging.Handler):
    def __init__(self, logs: Logs) -> None:
        super().__init__()
        self._logs = logs
        self.addFilter(lambda record: record.name.startswith(PREFIX) and record.name not in UNLOGGED)

    def emit(self, record: logging.LogRecord) -> None:
        options = self._logs.options
        level = pocketbase_level(record.levelno)
        if not options.enabled or level < options.min_level:
            return
        try:
            message = record.getMessage()
        except (TypeError, ValueError, KeyError):  # a bad format must not lose the record
            message = str(record.msg)
        self._logs.buffer.add_threadsafe(AppEntry(time.time(), level, message, record_data(record)))

    def sync_level(self) -> None:
        """Let ``minLevel`` decide which records are worth formatting at all."""
        self.setLevel(python_level(self._logs.options.min_level))
