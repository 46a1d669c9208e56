"""Where ``app.db`` and ``app.aux_db`` live: SQLite files in the data dir, or what ``--db``
(``PBK_DB``) names.

A URL's scheme picks the plugin that opens it through the entry point group ``pbk.databases``
(``postgresql = "pbk_postgres.database:open_database"``): ``open_database(url, role, config)``
returns the ``DatabaseDriver`` (``pbk_sdk.interfaces``) of role ``"main"`` (``app.db``) or
``"aux"`` (``app.aux_db``), and ``DriverDatabase`` runs its connections with the kernel's own
threads and transaction bookkeeping. Without ``--db``, or with ``sqlite:``, the kernel's SQLite
``Database`` is used and no entry point is looked up.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

from pbk_sdk.errors import PluginError
from pbk_sdk.interfaces import DatabaseDriver

from .config import Config
from .db import BUSY_TIMEOUT_MS, Database

T = TypeVar("T")

GROUP = "pbk.databases"
#: Schemes that mean the same storage as another one.
ALIASES = {"postgres": "postgresql"}
#: The distribution to install for a scheme, for the error that says none is installed.
DISTRIBUTIONS = {"postgresql": "pbk-postgres"}


def open_databases(config: Config) -> tuple[Any, Any]:
    """``(app.db, app.aux_db)`` for ``config`` (nothing is connected yet)."""
    scheme = _scheme(config.db)
    if scheme == "sqlite":
        return (
            Database(config.data_dir / "data.db", readers=4, query_timeout=config.query_timeout,
                     trace_sql=config.dev),
            Database(config.data_dir / "auxiliary.db", readers=2, query_timeout=config.query_timeout,
                     trace_sql=config.dev),
        )
    assert config.db is not None
    opener = _opener(scheme)
    try:
        main, aux = opener(config.db, "main", config), opener(config.db, "aux", config)
    except PluginError:
        raise
    except Exception as exc:
        raise PluginError(f"cannot use the {scheme}:// database: {exc}") from exc
    return (
        DriverDatabase(main, config.data_dir / "data.db", readers=4, query_timeout=config.query_timeout,
                       trace_sql=config.dev),
        DriverDatabase(aux, config.data_dir / "auxiliary.db", readers=2, query_timeout=config.query_timeout,
                       trace_sql=config.dev),
    )


class DriverDatabase(Database):
    """The SDK's ``Database`` on a storage plugin's connections: the same writer thread and
    reader threads, transactions, savepoints, ``after_commit``/``after_rollback`` and
    cancellation as SQLite's, so every engine behaves alike. Nothing runs on the event loop
    thread (``read_inline`` and inline writes take the thread hop): a statement there would
    wait on the network. ``path`` still names a file in the data dir (where SQLite's would be),
    for code that derives folders from it; no file is made there."""

    def __init__(self, driver: DatabaseDriver, path: Path, *, readers: int = 4, query_timeout: float = 30.0,
                 trace_sql: bool = False) -> None:
        super().__init__(path, readers=readers, query_timeout=query_timeout, trace_sql=trace_sql)
        self.driver = driver
        self.engine = driver.engine

    async def open(self) -> None:
        """Check the database can be reached (and made) before the first request needs it."""
        if self._closed:
            raise RuntimeError(f"the {self.engine} database ({self.path.name}) was closed and cannot be reopened")
        self._write_lock = asyncio.Lock()
        await asyncio.get_running_loop().run_in_executor(self._writer, self.driver.ensure_exists)

    def _connection(self, *, writer: bool) -> Any:
        return self._register(self.driver.connect(
            writer=writer, busy_timeout_ms=BUSY_TIMEOUT_MS, query_timeout=self.query_timeout,
            trace_sql=self._trace_sql))

    def _writer_connection(self) -> Any:
        if self._writer_conn is None:
            self._writer_conn = self._connection(writer=True)
        return self._writer_conn

    def _reader_connection(self) -> Any:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = self._connection(writer=False)
        return conn

    async def read_inline(self, fn: Callable[..., T], *args: Any) -> T:
        return await self.read(fn, *args)

    def _write_inline(self, fn: Callable[..., T], args: tuple[Any, ...]) -> tuple[bool, T | None]:
        return False, None  # as read_inline: every write goes to the writer thread

    def _writer_idle_in_transaction(self) -> bool:
        return False  # SAVEPOINT, RELEASE and COMMIT too go to the writer thread

    def _writer_here_in_transaction(self) -> bool:
        return False

    async def vacuum(self) -> None:
        """The driver's vacuum, outside any transaction, on the writer. Raises ``RuntimeError``
        inside ``transaction()``, as on SQLite."""
        if self._active_transaction() is not None:
            raise RuntimeError("cannot VACUUM inside a transaction")
        if self._closed or self._write_lock is None:
            raise RuntimeError(f"the {self.engine} database ({self.path.name}) is not open")
        async with self._write_lock:
            await self._on_writer(self.driver.vacuum)


def _scheme(url: str | None) -> str:
    if not url:
        return "sqlite"
    scheme = urlsplit(url).scheme.lower()
    if not scheme:
        raise PluginError(f"--db {url!r} is not a database URL: expected postgresql://USER@HOST:PORT/NAME")
    if scheme == "sqlite" and url.rstrip("/").lower() != "sqlite:":
        raise PluginError("--db sqlite: takes no path: SQLite's files are data.db and auxiliary.db in --dir")
    return ALIASES.get(scheme, scheme)


def _opener(scheme: str) -> Any:
    """The ``open_database`` of the installed plugin for ``scheme``; one clear error if none."""
    found = [ep for ep in entry_points(group=GROUP) if ALIASES.get(ep.name, ep.name) == scheme]
    if not found:
        hint = f": pip install {DISTRIBUTIONS[scheme]}" if scheme in DISTRIBUTIONS else ""
        raise PluginError(f"no installed plugin opens {scheme}:// databases{hint}")
    try:
        return found[0].load()
    except Exception as exc:
        raise PluginError(f"the {scheme}:// database plugin ({found[0].value}) cannot be loaded: {exc}") from exc
