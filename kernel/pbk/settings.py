"""App settings in ``_params`` row ``settings``, byte-compatible with PocketBase 0.40.

PocketBase stores the settings JSON as a BLOB, or, with ``--encryptionEnv``, as TEXT holding
base64(nonce ‖ AES-256-GCM ciphertext) keyed by the 32-character value of that variable.
pbk reads and writes both forms, so either program opens the other's ``pb_data``.
"""

from __future__ import annotations

import base64
import copy
import os
import secrets
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import apsw
import orjson
from pbk_sdk.events import SETTINGS_RELOAD, SettingsEvent
from pbk_sdk.mappings import deep_merge
from pbk_sdk.pocketbase import CREATE_PARAMS_TABLE

from .db import Database
from .events import EventBus

SETTINGS_KEY = "settings"
NONCE_SIZE = 12  # Go's cipher.NewGCM default, which PocketBase uses



#: Values ``get`` hands out as they are: nothing a caller does to them reaches the settings.
_IMMUTABLE = (str, int, float, bool)
_UNSEEN = object()  # a path ``get`` has not looked up since the settings changed
_ABSENT = object()  # a path the settings do not have


class SettingsError(Exception):
    """Settings cannot be read (wrong or missing encryption key, corrupt JSON)."""


def encryption_key(env_name: str | None) -> bytes | None:
    """The AES key named by ``--encryptionEnv``; a clear error when it is unusable."""
    if not env_name:
        return None
    value = os.environ.get(env_name, "")
    if not value:
        raise SettingsError(f"--encryptionEnv names ${env_name}, which is not set or empty")
    key = value.encode()
    if len(key) != 32:
        raise SettingsError(f"${env_name} must hold exactly 32 characters (it has {len(key)})")
    return key


def encrypt(data: bytes, key: bytes) -> str:
    # Imported here: only encrypted settings need it, and it costs start-up time.
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    nonce = secrets.token_bytes(NONCE_SIZE)
    return base64.b64encode(nonce + AESGCM(key).encrypt(nonce, data, None)).decode()


def decrypt(token: str, key: bytes) -> bytes:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    raw = base64.b64decode(token, validate=True)
    return AESGCM(key).decrypt(raw[:NONCE_SIZE], raw[NONCE_SIZE:], None)



def decode_stored(value: bytes | str | None, key: bytes | None) -> tuple[dict[str, Any], bool]:
    """Parse a stored settings value; returns ``(settings, was_encrypted)``."""
    if value is None:
        return {}, False
    raw = value.encode() if isinstance(value, str) else bytes(value)
    stripped = raw.lstrip()
    if stripped.startswith(b"{"):
        try:
            return orjson.loads(raw), False
        except orjson.JSONDecodeError as exc:
            raise SettingsError(f"the stored settings are not valid JSON: {exc}") from exc
    if key is None:
        raise SettingsError(
            "the stored settings are encrypted; start with --encryptionEnv naming the variable "
            "that holds their key"
        )
    try:
        return orjson.loads(decrypt(raw.decode(), key)), True
    except Exception as exc:
        raise SettingsError("the stored settings cannot be decrypted with the given key") from exc


def _load(conn: apsw.Connection, engine: str = "sqlite") -> bytes | str | None:
    if engine != "sqlite":
        return _load_pg(conn)
    if not conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_params'").fetchone():
        return None
    row = conn.execute("SELECT value FROM _params WHERE id = ?", (SETTINGS_KEY,)).fetchone()
    return row[0] if row else None


def _store(conn: apsw.Connection, value: bytes | str, engine: str = "sqlite") -> None:
    if engine != "sqlite":
        _store_pg(conn, value)
        return
    # NOTE: created on first save, not at start: PocketBase's own init migration creates
    # `_params` and fails on a data dir where it already exists (see docs/architecture.md).
    conn.execute(CREATE_PARAMS_TABLE)
    conn.execute(
        "INSERT INTO _params (id, value) VALUES (?, ?) ON CONFLICT(id) DO UPDATE SET "
        "value = excluded.value, updated = strftime('%Y-%m-%d %H:%M:%fZ')",
        (SETTINGS_KEY, value),
    )


#: ``_params`` on PostgreSQL (docs/scale-out.md): ``value`` is ``json``, so encrypted settings
#: (base64 text) are stored as a JSON string there.
CREATE_PARAMS_TABLE_PG = """CREATE TABLE IF NOT EXISTS "_params" (
	"id"      TEXT COLLATE "C" PRIMARY KEY NOT NULL,
	"value"   JSON DEFAULT NULL,
	"created" TEXT COLLATE "C" DEFAULT '' NOT NULL,
	"updated" TEXT COLLATE "C" DEFAULT '' NOT NULL
)"""


def _load_pg(conn: Any) -> str | None:
    if not conn.execute("SELECT to_regclass('\"_params\"') IS NOT NULL").get:
        return None
    value = conn.execute('SELECT "value" FROM "_params" WHERE "id" = ?', (SETTINGS_KEY,)).get
    if isinstance(value, str) and value.startswith('"'):
        return str(orjson.loads(value))  # encrypted: the base64 text
    return value  # type: ignore[no-any-return]


def _store_pg(conn: Any, value: bytes | str) -> None:
    conn.execute(CREATE_PARAMS_TABLE_PG)
    text = value.decode() if isinstance(value, bytes) else orjson.dumps(value).decode()
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] + "Z"
    conn.execute(
        'INSERT INTO "_params" ("id", "value", "created", "updated") VALUES (?, ?, ?, ?) '
        'ON CONFLICT ("id") DO UPDATE SET "value" = excluded."value", "updated" = excluded."updated"',
        (SETTINGS_KEY, text, now, now),
    )


class Settings:
    """Declared defaults merged with what ``_params`` holds; see ``pbk_sdk.interfaces``."""

    def __init__(
        self, db: Database, events: EventBus, key: bytes | None, on_saved: Callable[[], None] = lambda: None
    ) -> None:
        self._db = db
        self._events = events
        self._key = key
        self._on_saved = on_saved  # after commit, before the save returns: the other workers reload
        self._defaults: dict[str, Any] = {}
        self._stored: dict[str, Any] = {}
        self._merged: dict[str, Any] = {}
        #: What ``get`` found at each path asked for, until the settings change.
        self._found: dict[str, Any] = {}

    def declare(self, defaults: Mapping[str, Any]) -> None:
        self._defaults = deep_merge(self._defaults, defaults)
        self._set_merged(deep_merge(self._defaults, self._stored))

    async def load(self) -> None:
        """Read the stored settings; re-save them encrypted when a key is now given."""
        stored, was_encrypted = decode_stored(await self._db.read(_load, self._db.engine), self._key)
        self._stored = stored
        self._set_merged(deep_merge(self._defaults, stored))
        if stored and self._key is not None and not was_encrypted:
            await self._db.write(_store, self._encode(stored), self._db.engine)

    async def refresh(self) -> None:
        """Another worker saved the settings: load them and tell this worker's plugins."""
        stored, _ = decode_stored(await self._db.read(_load, self._db.engine), self._key)
        merged = deep_merge(self._defaults, stored)
        changed = frozenset(k for k in merged.keys() | self._merged.keys() if merged.get(k) != self._merged.get(k))
        self._stored = stored
        self._set_merged(merged)
        if changed:
            await self._events.trigger(SETTINGS_RELOAD, SettingsEvent(settings=self, changed=changed))

    def _encode(self, settings: Mapping[str, Any]) -> bytes | str:
        data = orjson.dumps(settings)
        return encrypt(data, self._key) if self._key is not None else data

    def _set_merged(self, merged: dict[str, Any]) -> None:
        self._merged = merged
        self._found = {}

    def get(self, path: str, default: Any = None) -> Any:
        node = self._found.get(path, _UNSEEN)
        if node is _UNSEEN:
            node = self._found[path] = self._lookup(path)
        if node is _ABSENT:
            return default
        if node is None or type(node) in _IMMUTABLE:
            return node  # asked on every request (``trustedProxy.headers``, ``s3.enabled``)
        if not node and type(node) in (list, dict):
            return type(node)()
        return copy.deepcopy(node)

    def _lookup(self, path: str) -> Any:
        node: Any = self._merged
        for part in path.split("."):
            if not isinstance(node, Mapping) or part not in node:
                return _ABSENT
            node = node[part]
        return node

    def as_dict(self) -> dict[str, Any]:
        return copy.deepcopy(self._merged)

    async def update(self, patch: Mapping[str, Any]) -> None:
        def save(conn: apsw.Connection) -> None:
            # NOTE: merge into the row as it is now, inside the write transaction, not into
            # self._merged: that only changes after commit, so concurrent updates (or two in
            # one transaction, or another process's) would otherwise overwrite each other.
            current = deep_merge(self._defaults, decode_stored(_load(conn, self._db.engine), self._key)[0])
            merged = deep_merge(current, patch)
            changed = frozenset(k for k in merged if merged.get(k) != self._merged.get(k))
            _store(conn, self._encode(merged), self._db.engine)

            async def reload() -> None:
                self._stored = merged
                self._set_merged(merged)
                self._on_saved()
                await self._events.trigger(
                    SETTINGS_RELOAD, SettingsEvent(settings=self, changed=changed)
                )

            self._db.after_commit(reload)

        await self._db.write(save)
