"""The ``.autocert_cache`` entries: which cached certificates count (autocert's validCert), the
account key, the http-01 answers."""

from __future__ import annotations

import datetime
import os
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from pbk_autotls.cache import CertificateCache
from pebble_server import certificate, key_pem, pem

DOMAIN = "pbk.example.test"
NOW = datetime.datetime.now(datetime.UTC)


def write_entry(cache: CertificateCache, name: str = DOMAIN, *, san: str = DOMAIN, days: int = 30,
                other_key: bool = False) -> None:
    ca = certificate("a CA", [])
    leaf, key = certificate(san, [x509.DNSName(san)], issuer=ca, not_after=NOW + datetime.timedelta(days=days),
                            not_before=NOW - datetime.timedelta(days=60))
    if other_key:
        key = certificate("another", [])[1]
    cache.directory.mkdir(exist_ok=True)
    (cache.directory / name).write_bytes(key_pem(key) + pem(leaf) + pem(ca[0]))


@pytest.fixture
def cache(tmp_path: Path) -> CertificateCache:
    return CertificateCache(tmp_path / ".autocert_cache")


def test_a_valid_entry_is_loaded_with_its_dates(cache):
    write_entry(cache)
    loaded = cache.certificate(DOMAIN, NOW)
    assert loaded is not None
    assert loaded.not_after > NOW > loaded.not_before


@pytest.mark.parametrize(
    "entry",
    [
        {"days": -1},  # expired
        {"san": "other.example.test"},  # another name's
        {"other_key": True},  # a key that is not the leaf's
    ],
)
def test_entries_autocert_would_not_use_are_misses(cache, entry):
    write_entry(cache, **entry)
    assert cache.certificate(DOMAIN, NOW) is None


def test_missing_and_unreadable_entries_are_misses(cache):
    assert cache.certificate(DOMAIN, NOW) is None
    cache.directory.mkdir()
    (cache.directory / DOMAIN).write_bytes(b"not PEM at all")
    assert cache.certificate(DOMAIN, NOW) is None


def test_the_account_key_is_made_once_private_and_kept(cache):
    key = cache.account_key()
    entry = cache.directory / "acme_account+key"
    assert entry.read_bytes().startswith(b"-----BEGIN EC PRIVATE KEY-----\n")
    assert oct(entry.stat().st_mode & 0o777) == "0o600"
    assert oct(cache.directory.stat().st_mode & 0o777) == "0o700"
    assert cache.account_key().private_numbers() == key.private_numbers()


def test_an_older_autocerts_account_key_is_read(cache):
    cache.directory.mkdir()
    key = certificate("account", [])[1]
    (cache.directory / "acme_account.key").write_bytes(key_pem(key))
    assert cache.account_key().private_numbers() == key.private_numbers()
    assert not (cache.directory / "acme_account+key").exists()


def test_an_account_key_that_is_not_ecdsa_is_a_clear_error(cache):
    cache.directory.mkdir()
    (cache.directory / "acme_account+key").write_bytes(b"garbage")
    with pytest.raises(ValueError, match="is not a PEM ECDSA key"):
        cache.account_key()


def test_http_answers_are_kept_by_token_only(cache):
    cache.put_http_token("tok-EN_1", "tok-EN_1.thumbprint")
    assert (cache.directory / "tok-EN_1+http-01").read_text() == "tok-EN_1.thumbprint"
    assert cache.http_token("tok-EN_1") == b"tok-EN_1.thumbprint"
    (cache.directory.parent / "outside+http-01").write_text("secret")  # there, named as an answer
    assert cache.http_token("../outside") is None
    cache.delete_http_token("tok-EN_1")
    assert cache.http_token("tok-EN_1") is None
    with pytest.raises(ValueError, match="not an ACME token"):
        cache.put_http_token("a/b", "x")


def test_a_certificate_is_written_as_autocert_writes_it(cache):
    ca = certificate("a CA", [])
    leaf, key = certificate(DOMAIN, [x509.DNSName(DOMAIN)], issuer=ca)
    cache.put_certificate(DOMAIN, key, pem(leaf) + b"\n" + pem(ca[0]))
    data = (cache.directory / DOMAIN).read_bytes()
    sec1 = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                             serialization.NoEncryption())
    assert data == sec1 + pem(leaf) + pem(ca[0])  # blocks back to back, nothing between
    assert cache.certificate(DOMAIN, NOW) is not None


def test_a_certificate_valid_from_a_few_minutes_ahead_counts(cache):
    """A clock a little behind the CA's does not refuse what it issued; more than that does."""
    ca = certificate("a CA", [])
    for ahead, counts in ((datetime.timedelta(minutes=3), True), (datetime.timedelta(minutes=10), False)):
        leaf, key = certificate(DOMAIN, [x509.DNSName(DOMAIN)], issuer=ca, not_before=NOW + ahead)
        cache.put_certificate(DOMAIN, key, pem(leaf))
        assert (cache.certificate(DOMAIN, NOW) is not None) == counts


def test_an_empty_account_key_is_corrupt_not_missing(cache):
    cache.directory.mkdir()
    (cache.directory / "acme_account+key").write_bytes(b"")
    with pytest.raises(ValueError, match="is not a PEM ECDSA key"):
        cache.account_key()
    assert (cache.directory / "acme_account+key").read_bytes() == b""  # not replaced by a new account


def test_an_existing_cache_directory_is_made_private(cache):
    cache.directory.mkdir(mode=0o755)
    cache.directory.chmod(0o755)
    cache.put_http_token("tok", "tok.thumbprint")
    assert oct(cache.directory.stat().st_mode & 0o777) == "0o700"


def test_stale_http_answers_are_removed(cache):
    cache.put_http_token("old", "old.thumbprint")
    cache.put_http_token("new", "new.thumbprint")
    long_ago = (NOW - datetime.timedelta(hours=1)).timestamp()
    os.utime(cache.directory / "old+http-01", (long_ago, long_ago))
    cache.delete_stale_http_tokens(NOW - datetime.timedelta(minutes=3))
    assert (cache.http_token("old"), cache.http_token("new")) == (None, b"new.thumbprint")
