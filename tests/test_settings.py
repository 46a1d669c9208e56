"""Settings in ``_params`` row ``settings``, byte-compatible with PocketBase 0.40."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Callable
from pathlib import Path
from typing import Any

import apsw
import httpx
import orjson
import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pbk import build_app
from pbk.settings import SettingsError
from pbk_sdk.events import SETTINGS_RELOAD, SettingsEvent
from pbk_sdk.testing import pocketbase_superuser, superuser_token

KEY_ENV = "PBK_TEST_ENCRYPTION_KEY"
KEY = "0123456789abcdef0123456789ABCDEF"  # 32 characters: AES-256

# `_params` exactly as PocketBase 0.40's init migration creates it (read from sqlite_master of a
# data.db the real binary created).
POCKETBASE_PARAMS_SQL = (
    "CREATE TABLE `_params` (\n"
    "\t\t\t`id`      TEXT PRIMARY KEY DEFAULT ('r'||lower(hex(randomblob(7)))) NOT NULL,\n"
    "\t\t\t`value`   JSON DEFAULT NULL,\n"
    "\t\t\t`created` TEXT DEFAULT (strftime('%Y-%m-%d %H:%M:%fZ')) NOT NULL,\n"
    "\t\t\t`updated` TEXT DEFAULT (strftime('%Y-%m-%d %H:%M:%fZ')) NOT NULL\n"
    "\t\t)"
)

DECLARE_SETTINGS = """
from pbk_sdk import hookimpl

@hookimpl
def pbk_declare_settings(app):
    return {
        "meta": {"appName": "Acme", "appURL": "http://localhost:8090"},
        "smtp": {"enabled": False, "host": "smtp.example.com", "port": 587},
    }
"""


# --------------------------------------------------------------------------- helpers


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "pb_data"


@pytest.fixture
def make_app(
    data_dir: Path, plugins_dir: Path, write_plugin: Callable[[str, str], Path]
) -> Callable[..., Any]:
    """``make_app(encryption_env=...)``: an app on ``data_dir`` declaring meta/smtp defaults."""
    write_plugin("declares_settings", DECLARE_SETTINGS)

    def make(**overrides: Any) -> Any:
        return build_app(data_dir=data_dir, plugins=[], plugins_dir=plugins_dir, **overrides)

    return make


def query(data_dir: Path, sql: str, *bindings: Any) -> list[tuple[Any, ...]]:
    """Read ``data.db`` with a connection of our own, as another process would."""
    conn = apsw.Connection(str(data_dir / "data.db"), flags=apsw.SQLITE_OPEN_READONLY)
    try:
        return conn.execute(sql, bindings).fetchall()
    finally:
        conn.close()


def stored(data_dir: Path) -> tuple[str, Any]:
    """``(typeof(value), value)`` of the settings row."""
    [(kind, value)] = query(
        data_dir, "SELECT typeof(value), value FROM _params WHERE id = 'settings'"
    )
    return kind, value


def decrypt_pocketbase(token: str, key: str) -> dict[str, Any]:
    """PocketBase's security.Decrypt: base64(nonce[12] || AES-256-GCM(ciphertext || tag))."""
    raw = base64.b64decode(token, validate=True)
    return orjson.loads(AESGCM(key.encode()).decrypt(raw[:12], raw[12:], None))


def write_params_row(data_dir: Path, value: bytes | str) -> None:
    """Store a settings row the way PocketBase would have, before pbk opens the dir."""
    data_dir.mkdir(parents=True, exist_ok=True)
    conn = apsw.Connection(str(data_dir / "data.db"))
    try:
        conn.execute(POCKETBASE_PARAMS_SQL)
        conn.execute("INSERT INTO _params (id, value) VALUES ('settings', ?)", (value,))
    finally:
        conn.close()


# --------------------------------------------------------------------------- defaults, update


async def test_declared_defaults_are_returned_by_get_and_as_dict(make_app):
    app = make_app()
    await app.start()
    try:
        settings = app.settings
        assert settings.get("meta.appName") == "Acme"
        assert settings.get("smtp.port") == 587
        assert settings.get("smtp") == {"enabled": False, "host": "smtp.example.com", "port": 587}
        assert settings.get("smtp.nope") is None
        assert settings.get("nope.deeper", "fallback") == "fallback"
        assert settings.get("meta.appName.deeper", 1) == 1
        assert settings.as_dict() == {
            "meta": {"appName": "Acme", "appURL": "http://localhost:8090"},
            "smtp": {"enabled": False, "host": "smtp.example.com", "port": 587},
        }
    finally:
        await app.stop()


async def test_get_and_as_dict_return_copies_that_callers_cannot_change(make_app):
    app = make_app()
    await app.start()
    try:
        app.settings.get("smtp")["port"] = 1
        app.settings.as_dict()["meta"]["appName"] = "Mutated"
        assert app.settings.get("smtp.port") == 587
        assert app.settings.get("meta.appName") == "Acme"
    finally:
        await app.stop()


async def test_a_started_app_creates_no_params_table_until_settings_are_saved(make_app, data_dir):
    app = make_app()
    await app.start()
    try:
        assert query(data_dir, "SELECT name FROM sqlite_master WHERE name = '_params'") == []
        await app.settings.update({"meta": {"appName": "Saved"}})
        assert query(data_dir, "SELECT sql FROM sqlite_master WHERE name = '_params'") == [
            (POCKETBASE_PARAMS_SQL,)
        ]
    finally:
        await app.stop()


async def test_update_deep_merges_and_persists_a_json_blob_a_fresh_app_reads_back(
    make_app, data_dir
):
    app = make_app()
    await app.start()
    try:
        await app.settings.update({"meta": {"appName": "Blog"}, "smtp": {"port": 2525}})
        assert app.settings.get("meta") == {"appName": "Blog", "appURL": "http://localhost:8090"}
        assert app.settings.get("smtp.port") == 2525
        assert app.settings.get("smtp.host") == "smtp.example.com"
    finally:
        await app.stop()

    kind, value = stored(data_dir)
    assert kind == "blob"
    assert orjson.loads(value) == {
        "meta": {"appName": "Blog", "appURL": "http://localhost:8090"},
        "smtp": {"enabled": False, "host": "smtp.example.com", "port": 2525},
    }
    # Compact JSON, as Go's json.Marshal writes it.
    assert b" " not in bytes(value).replace(b"smtp.example.com", b"")
    [(created, updated)] = query(data_dir, "SELECT created, updated FROM _params")
    assert len(created) == len("2024-01-01 00:00:00.000Z") and created.endswith("Z")
    assert updated >= created

    again = make_app()
    await again.start()
    try:
        assert again.settings.get("meta.appName") == "Blog"
        assert again.settings.get("smtp.port") == 2525
    finally:
        await again.stop()


async def test_an_update_replaces_lists_and_scalars_instead_of_merging_them(make_app):
    app = make_app()
    await app.start()
    try:
        await app.settings.update({"trustedProxy": {"headers": ["X-Real-IP", "X-Forwarded-For"]}})
        await app.settings.update({"trustedProxy": {"headers": ["CF-Connecting-IP"]}})
        await app.settings.update({"smtp": None})
        assert app.settings.get("trustedProxy.headers") == ["CF-Connecting-IP"]
        assert app.settings.get("smtp") is None
    finally:
        await app.stop()


async def test_stored_keys_no_plugin_declares_are_kept_across_updates(make_app, data_dir):
    pocketbase_only = {
        "meta": {"appName": "Stored", "senderName": "Support"},
        "batch": {"enabled": True, "maxRequests": 50},
        "rateLimits": {"rules": [{"label": "*:auth", "maxRequests": 2}]},
    }
    write_params_row(data_dir, orjson.dumps(pocketbase_only))

    app = make_app()
    await app.start()
    try:
        assert app.settings.get("meta.appName") == "Stored"
        assert app.settings.get("meta.appURL") == "http://localhost:8090"  # default fills in
        await app.settings.update({"meta": {"appName": "Updated"}})
    finally:
        await app.stop()

    saved = orjson.loads(stored(data_dir)[1])
    assert saved["meta"] == {
        "appName": "Updated", "senderName": "Support", "appURL": "http://localhost:8090"
    }
    assert saved["batch"] == pocketbase_only["batch"]
    assert saved["rateLimits"] == pocketbase_only["rateLimits"]


async def test_settings_reload_fires_after_the_commit_with_the_changed_top_level_keys(
    make_app, data_dir
):
    app = make_app()
    await app.start()
    events: list[tuple[frozenset[str], str, str]] = []

    async def on_reload(e: SettingsEvent) -> None:
        # Committed: another connection already sees the new value.
        on_disk = orjson.loads(stored(data_dir)[1])["meta"]["appName"]
        events.append((e.changed, e.settings.get("meta.appName"), on_disk))
        await e.next()

    app.events.on(SETTINGS_RELOAD, on_reload)
    try:
        await app.settings.update({"meta": {"appName": "One"}, "smtp": {"port": 587}})
        await app.settings.update({"smtp": {"port": 25}, "extra": {"on": True}})
    finally:
        await app.stop()

    assert events == [
        (frozenset({"meta"}), "One", "One"),
        (frozenset({"smtp", "extra"}), "One", "One"),
    ]


async def test_an_update_in_a_rolled_back_transaction_changes_nothing_and_fires_no_event(
    make_app, data_dir
):
    app = make_app()
    await app.start()
    fired: list[Any] = []

    async def on_reload(e: SettingsEvent) -> None:
        fired.append(e.changed)
        await e.next()

    app.events.on(SETTINGS_RELOAD, on_reload)
    try:
        with pytest.raises(RuntimeError):
            async with app.db.transaction():
                await app.settings.update({"meta": {"appName": "Never"}})
                raise RuntimeError("abort")
        assert app.settings.get("meta.appName") == "Acme"
        assert fired == []
        assert query(data_dir, "SELECT name FROM sqlite_master WHERE name = '_params'") == []
    finally:
        await app.stop()


async def test_concurrent_updates_of_different_keys_are_all_kept(make_app, data_dir):
    app = make_app()
    await app.start()
    try:
        await asyncio.gather(
            app.settings.update({"meta": {"appName": "Concurrent"}}),
            app.settings.update({"smtp": {"port": 2525}}),
            app.settings.update({"logs": {"maxDays": 3}}),
        )
        assert app.settings.get("meta.appName") == "Concurrent"
        assert app.settings.get("smtp.port") == 2525
        assert app.settings.get("logs.maxDays") == 3
    finally:
        await app.stop()

    saved = orjson.loads(stored(data_dir)[1])
    assert (saved["meta"]["appName"], saved["smtp"]["port"], saved["logs"]) == (
        "Concurrent", 2525, {"maxDays": 3}
    )


async def test_two_updates_in_one_transaction_both_persist(make_app, data_dir):
    app = make_app()
    await app.start()
    try:
        async with app.db.transaction():
            await app.settings.update({"meta": {"appName": "First"}})
            await app.settings.update({"smtp": {"port": 2525}})
        assert app.settings.get("meta.appName") == "First"
        assert app.settings.get("smtp.port") == 2525
    finally:
        await app.stop()

    saved = orjson.loads(stored(data_dir)[1])
    assert (saved["meta"]["appName"], saved["smtp"]["port"]) == ("First", 2525)


# --------------------------------------------------------------------------- encryption


async def test_with_an_encryption_key_settings_are_stored_as_base64_nonce_and_aes_gcm(
    make_app, data_dir, monkeypatch
):
    monkeypatch.setenv(KEY_ENV, KEY)
    app = make_app(encryption_env=KEY_ENV)
    await app.start()
    try:
        await app.settings.update({"meta": {"appName": "Secret"}})
    finally:
        await app.stop()

    kind, value = stored(data_dir)
    assert kind == "text"
    raw = base64.b64decode(value, validate=True)
    assert len(raw) == 12 + len(orjson.dumps(decrypt_pocketbase(value, KEY))) + 16
    assert decrypt_pocketbase(value, KEY)["meta"] == {
        "appName": "Secret", "appURL": "http://localhost:8090"
    }
    assert b"Secret" not in value.encode()

    again = make_app(encryption_env=KEY_ENV)
    await again.start()
    try:
        assert again.settings.get("meta.appName") == "Secret"
    finally:
        await again.stop()


async def test_each_save_uses_a_fresh_nonce(make_app, data_dir, monkeypatch):
    monkeypatch.setenv(KEY_ENV, KEY)
    app = make_app(encryption_env=KEY_ENV)
    await app.start()
    try:
        await app.settings.update({"meta": {"appName": "Same"}})
        first = stored(data_dir)[1]
        await app.settings.update({"meta": {"appName": "Same"}})
        second = stored(data_dir)[1]
    finally:
        await app.stop()
    assert base64.b64decode(first)[:12] != base64.b64decode(second)[:12]
    assert decrypt_pocketbase(first, KEY) == decrypt_pocketbase(second, KEY)


async def test_encrypted_settings_cannot_be_read_without_the_key(make_app, data_dir, monkeypatch):
    monkeypatch.setenv(KEY_ENV, KEY)
    app = make_app(encryption_env=KEY_ENV)
    await app.start()
    await app.settings.update({"meta": {"appName": "Secret"}})
    await app.stop()

    monkeypatch.delenv(KEY_ENV)
    keyless = make_app()
    with pytest.raises(SettingsError, match="encrypted.*--encryptionEnv"):
        await keyless.start()
    assert stored(data_dir)[0] == "text"  # nothing was overwritten


async def test_encrypted_settings_with_the_wrong_key_raise_a_settings_error(
    make_app, data_dir, monkeypatch
):
    monkeypatch.setenv(KEY_ENV, KEY)
    app = make_app(encryption_env=KEY_ENV)
    await app.start()
    await app.settings.update({"meta": {"appName": "Secret"}})
    await app.stop()
    before = stored(data_dir)

    monkeypatch.setenv(KEY_ENV, "x" * 32)
    wrong = make_app(encryption_env=KEY_ENV)
    with pytest.raises(SettingsError, match="cannot be decrypted"):
        await wrong.start()
    assert stored(data_dir) == before


@pytest.mark.parametrize(
    "value", ["too-short", "x" * 33, "é" * 32], ids=["short", "33-chars", "32-chars-64-bytes"]
)
def test_a_key_that_is_not_32_bytes_is_refused(make_app, monkeypatch, value):
    monkeypatch.setenv(KEY_ENV, value)
    with pytest.raises(SettingsError, match=f"\\${KEY_ENV} must hold exactly 32 characters"):
        make_app(encryption_env=KEY_ENV)


@pytest.mark.parametrize("value", [None, ""])
def test_an_unset_or_empty_key_variable_is_refused(make_app, monkeypatch, value):
    if value is None:
        monkeypatch.delenv(KEY_ENV, raising=False)
    else:
        monkeypatch.setenv(KEY_ENV, value)
    with pytest.raises(SettingsError, match=f"\\${KEY_ENV}.*not set"):
        make_app(encryption_env=KEY_ENV)


async def test_plaintext_settings_are_saved_encrypted_once_a_key_is_given(
    make_app, data_dir, monkeypatch
):
    write_params_row(data_dir, orjson.dumps({"meta": {"appName": "Plain"}, "custom": [1, 2]}))
    monkeypatch.setenv(KEY_ENV, KEY)

    app = make_app(encryption_env=KEY_ENV)
    await app.start()
    try:
        assert app.settings.get("meta.appName") == "Plain"
    finally:
        await app.stop()

    kind, value = stored(data_dir)
    assert kind == "text"
    assert decrypt_pocketbase(value, KEY) == {"meta": {"appName": "Plain"}, "custom": [1, 2]}


async def test_corrupt_stored_json_raises_a_settings_error(make_app, data_dir):
    write_params_row(data_dir, b'{"meta": ')
    app = make_app()
    with pytest.raises(SettingsError, match="not valid JSON"):
        await app.start()


# --------------------------------------------------------------------------- real PocketBase


@pytest.mark.slow
async def test_pbk_reads_the_encrypted_settings_the_real_pocketbase_wrote(
    make_app, data_dir, monkeypatch, pocketbase_factory
):
    monkeypatch.setenv(KEY_ENV, KEY)
    pocketbase_factory(["--encryptionEnv", KEY_ENV], data_dir=data_dir).stop()
    assert stored(data_dir)[0] == "text"
    assert query(data_dir, "SELECT sql FROM sqlite_master WHERE name = '_params'") == [
        (POCKETBASE_PARAMS_SQL,)
    ]

    app = make_app(encryption_env=KEY_ENV)
    await app.start()
    try:
        assert app.settings.get("meta.appName") == "Acme"
        assert app.settings.get("smtp.port") == 587
        # PocketBase's own keys survive next to the plugin's declared ones.
        assert app.settings.get("batch") is not None
    finally:
        await app.stop()


@pytest.mark.slow
async def test_the_real_pocketbase_serves_settings_pbk_changed(
    make_app, data_dir, monkeypatch, pocketbase_factory
):
    monkeypatch.setenv(KEY_ENV, KEY)
    pocketbase_factory(["--encryptionEnv", KEY_ENV], data_dir=data_dir).stop()

    app = make_app(encryption_env=KEY_ENV)
    await app.start()
    try:
        await app.settings.update({"meta": {"appName": "Changed"}})
    finally:
        await app.stop()
    assert decrypt_pocketbase(stored(data_dir)[1], KEY)["meta"]["appName"] == "Changed"

    pocketbase_superuser(data_dir, "a@b.co", "1234567890", ["--encryptionEnv", KEY_ENV])
    pocketbase = pocketbase_factory(["--encryptionEnv", KEY_ENV], data_dir=data_dir)
    token = superuser_token(pocketbase.url, "a@b.co", "1234567890")
    async with httpx.AsyncClient(timeout=10) as client:
        response = await client.get(f"{pocketbase.url}/api/settings", headers={"Authorization": token})
    pocketbase.stop()
    assert response.status_code == 200, response.text
    assert response.json()["meta"]["appName"] == "Changed"
    assert response.json()["smtp"]["port"] == 587
