"""Where ``app.db`` and ``app.aux_db`` live: SQLite files in the data dir, or what ``--db``
(``PBK_DB``) names.

A URL's scheme picks the plugin that opens it through the entry point group ``pbk.databases``
(``postgresql = "pbk_postgres.database:open_database"``): ``open_database(url, role, config)``
returns the ``Database`` of role ``"main"`` (``app.db``) or ``"aux"`` (``app.aux_db``). Without
``--db``, or with ``sqlite:``, the kernel's own SQLite ``Database`` is used and no entry point
is looked up.
"""

from __future__ import annotations

from importlib.metadata import entry_points
from typing import Any
from urllib.parse import urlsplit

from pbk_sdk.errors import PluginError

from .config import Config
from .db import Database

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
        return opener(config.db, "main", config), opener(config.db, "aux", config)
    except PluginError:
        raise
    except Exception as exc:
        raise PluginError(f"cannot use the {scheme}:// database: {exc}") from exc


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
