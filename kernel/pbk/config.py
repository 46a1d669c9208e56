"""The configuration a pbk app runs with: PocketBase's flags, ``PBK_*`` variables, defaults."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_HTTP = "127.0.0.1:8090"
#: PocketBase's listeners once domains are given: HTTPS on 443, HTTP (redirecting) on 80.
DEFAULT_DOMAINS_HTTP = "0.0.0.0:80"
DEFAULT_DOMAINS_HTTPS = "0.0.0.0:443"
DEFAULT_MAX_BODY_SIZE = 32 << 20  # PocketBase's 32 MiB request body limit
DEFAULT_QUERY_TIMEOUT = 30.0
DEFAULT_READ_HEADER_TIMEOUT = 60.0  # PocketBase's http.Server ReadHeaderTimeout
DEFAULT_READ_TIMEOUT = 300.0  # PocketBase's ReadTimeout: a whole request, body included


@dataclass
class Config:
    """Everything that is fixed for the life of the process (settings live in the DB)."""

    data_dir: Path = field(default_factory=lambda: Path("pb_data"))
    public_dir: Path | None = None
    http: str = DEFAULT_HTTP
    #: The HTTPS address; set, ``http`` only redirects to it (``pbk serve DOMAIN...``).
    https: str = ""
    #: The names certificates are obtained for (PocketBase's ``serve [domain(s)]``).
    domains: tuple[str, ...] = ()
    dev: bool = False
    index_fallback: bool = True
    origins: tuple[str, ...] = ("*",)
    query_timeout: float = DEFAULT_QUERY_TIMEOUT
    max_body_size: int = DEFAULT_MAX_BODY_SIZE
    read_header_timeout: float = DEFAULT_READ_HEADER_TIMEOUT
    read_timeout: float = DEFAULT_READ_TIMEOUT
    encryption_env: str | None = None
    plugins: tuple[str, ...] | None = None  # None: every installed plugin
    plugins_dir: Path | None = None
    #: ``--migrationsDir``, ``--automigrate``: for the plugin that runs a project's migrations.
    migrations_dir: Path | None = None
    automigrate: bool = True
    #: ``--hooksDir``: the hook files (``*.pb.py``); PocketBase's default, beside the data dir.
    hooks_dir: Path | None = None
    hooks_watch: bool = True
    #: ``--db``/``PBK_DB``: the database URL (``postgresql://...``); None: SQLite in the data dir.
    db: str | None = None

    def __post_init__(self) -> None:
        self.data_dir = Path(self.data_dir)
        if self.public_dir is None:
            # PocketBase's default: pb_public beside pb_data.
            self.public_dir = self.data_dir.parent / "pb_public"
        self.public_dir = Path(self.public_dir)
        # PocketBase's default: pb_migrations beside pb_data.
        self.migrations_dir = Path(self.migrations_dir or self.data_dir.parent / "pb_migrations")
        self.hooks_dir = Path(self.hooks_dir or self.data_dir.parent / "pb_hooks")
        if self.plugins_dir is not None:
            self.plugins_dir = Path(self.plugins_dir)


def parse_address(address: str, flag: str = "--http") -> tuple[str, int]:
    """``host:port`` / ``[v6]:port`` / ``:port`` to ``(host, port)``."""
    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit():
        raise ValueError(f"invalid {flag} address {address!r}: expected HOST:PORT")
    host = host.strip("[]") or "0.0.0.0"
    return host, int(port)
