"""``pb_data/.autocert_cache`` in the format of Go's autocert ``DirCache``, which PocketBase
uses, so a ``pb_data`` moves between PocketBase and pbk with its certificates and account:

- ``<domain>``: the certificate's ECDSA key (PEM ``EC PRIVATE KEY``), then its chain (PEM
  ``CERTIFICATE`` blocks, the leaf first);
- ``acme_account+key``: the ACME account's ECDSA key (PEM ``EC PRIVATE KEY``);
- ``<token>+http-01``: the answer to a pending http-01 challenge, so that any worker (or
  server) on the data dir can give it.

Entries are written whole and durably (a temporary file synced to disk, renamed in place, the
directory synced), 0600 in a 0700 directory, as autocert writes them. Every method does file
I/O: call them on a thread, not the event loop.
"""

from __future__ import annotations

import contextlib
import os
import re
import ssl
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from pbk_sdk.tls import server_context

CACHE_DIR_NAME = ".autocert_cache"
ACCOUNT_KEY = "acme_account+key"
LEGACY_ACCOUNT_KEY = "acme_account.key"  # older autocert versions' name, still read
HTTP_TOKEN_SUFFIX = "+http-01"
#: ACME tokens are base64url (RFC 8555 §8.1); anything else is no token of ours.
_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,256}")
#: How far ahead of this machine's clock a certificate's notBefore may be and still be served:
#: CAs backdate (Let's Encrypt by an hour), but a clock a little behind should not refuse one.
CLOCK_SKEW = timedelta(minutes=5)
_PEM_BLOCK = re.compile(rb"-----BEGIN ([A-Z ]+)-----\r?\n.+?-----END \1-----\r?\n?", re.DOTALL)


@dataclass(frozen=True)
class Certificate:
    """A cached certificate, valid for its domain, loaded into a TLS context."""

    context: ssl.SSLContext
    not_before: datetime
    not_after: datetime


class CertificateCache:
    """The entries of one ``.autocert_cache`` directory."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    # ------------------------------------------------------------------ certificates

    def certificate(self, domain: str, now: datetime) -> Certificate | None:
        """The cached certificate for ``domain`` loaded into a context, or None when there is
        none valid at ``now`` (missing, unreadable, expired, another name's, or a key that
        does not match), which autocert also treats as a miss."""
        data = self._read(domain)
        while data is not None:
            found = _valid_certificate(data, domain, now)
            if found is None:
                return None
            context = server_context()
            try:
                context.load_cert_chain(self.directory / domain)
                loaded = True
            except (ssl.SSLError, OSError):  # replaced by something unreadable meanwhile
                loaded = False
            again = self._read(domain)
            if again == data:  # what was loaded is what was checked
                return Certificate(context, *found) if loaded else None
            data = again
        return None

    def stamp(self, domain: str) -> tuple[int, int] | None:
        """What changes when ``domain``'s entry is rewritten (None: there is none)."""
        try:
            status = os.stat(self.directory / domain)
        except OSError:
            return None
        return status.st_mtime_ns, status.st_size

    def put_certificate(self, domain: str, key: ec.EllipticCurvePrivateKey, chain_pem: bytes) -> None:
        self._write(domain, _ec_key_pem(key) + _normalised_pem(chain_pem))

    # ------------------------------------------------------------------ the account

    def account_key(self) -> ec.EllipticCurvePrivateKey:
        """The ACME account key, made (P-256, as autocert's) and stored on first use."""
        data = self._read(ACCOUNT_KEY)
        if data is None:
            data = self._read(LEGACY_ACCOUNT_KEY)
        if data is None:
            key = ec.generate_private_key(ec.SECP256R1())
            self._write(ACCOUNT_KEY, _ec_key_pem(key))
            return key
        blocks = _pem_blocks(data)
        stored = serialization.load_pem_private_key(blocks[0][1], password=None) if blocks else None
        if isinstance(stored, ec.EllipticCurvePrivateKey):
            return stored
        raise ValueError(f"the ACME account key in {self.directory} is not a PEM ECDSA key")

    # ------------------------------------------------------------------ http-01 answers

    def put_http_token(self, token: str, answer: str) -> None:
        self._write(_token_entry(token), answer.encode())

    def http_token(self, token: str) -> bytes | None:
        return self._read(_token_entry(token)) if _TOKEN.fullmatch(token) else None

    def delete_http_token(self, token: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            (self.directory / _token_entry(token)).unlink()

    def delete_stale_http_tokens(self, older_than: datetime) -> None:
        """Remove the answers of orders that ended without removing them (a process stopped
        during validation); those of an order still running are newer than ``older_than``."""
        try:
            entries = list(self.directory.glob("*" + HTTP_TOKEN_SUFFIX))
        except OSError:
            return
        for entry in entries:
            with contextlib.suppress(FileNotFoundError):
                if datetime.fromtimestamp(entry.stat().st_mtime, UTC) < older_than:
                    entry.unlink()

    # ------------------------------------------------------------------ files

    def _read(self, name: str) -> bytes | None:
        try:
            return (self.directory / name).read_bytes()
        except (FileNotFoundError, NotADirectoryError):
            return None

    def _write(self, name: str, data: bytes) -> None:
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        if self.directory.stat().st_mode & 0o777 != 0o700:  # made by someone else: keys inside
            self.directory.chmod(0o700)
        fd, temporary = tempfile.mkstemp(dir=self.directory, prefix=name)  # 0600
        try:
            with os.fdopen(fd, "wb") as file:
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, self.directory / name)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)
            raise
        directory = os.open(self.directory, os.O_RDONLY)
        try:
            os.fsync(directory)  # the rename itself survives a crash
        finally:
            os.close(directory)


def _token_entry(token: str) -> str:
    if not _TOKEN.fullmatch(token):
        raise ValueError(f"not an ACME token: {token!r}")
    return token + HTTP_TOKEN_SUFFIX


def _pem_blocks(data: bytes) -> list[tuple[str, bytes]]:
    return [(match[1].decode(), match[0]) for match in _PEM_BLOCK.finditer(data)]


def _normalised_pem(chain_pem: bytes) -> bytes:
    """The chain as autocert writes it: the blocks one after another, nothing in between."""
    return b"".join(block if block.endswith(b"\n") else block + b"\n" for _, block in _pem_blocks(chain_pem))


def _ec_key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    """Go's x509.MarshalECPrivateKey in PEM: SEC 1, ``EC PRIVATE KEY``."""
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    )


def _valid_certificate(data: bytes, domain: str, now: datetime) -> tuple[datetime, datetime] | None:
    """``(not_before, not_after)`` of the leaf in ``data`` when autocert's validCert accepts it
    for ``domain`` at ``now`` (or would, ``CLOCK_SKEW`` later); None otherwise."""
    blocks = _pem_blocks(data)
    if len(blocks) < 2 or "PRIVATE" not in blocks[0][0] or any(kind != "CERTIFICATE" for kind, _ in blocks[1:]):
        return None
    try:
        key = serialization.load_pem_private_key(blocks[0][1], password=None)
        leaf = x509.load_pem_x509_certificate(blocks[1][1])
        names = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except (ValueError, TypeError, x509.ExtensionNotFound):
        return None
    public = serialization.PublicFormat.SubjectPublicKeyInfo
    if key.public_key().public_bytes(serialization.Encoding.DER, public) != leaf.public_key().public_bytes(
        serialization.Encoding.DER, public
    ):
        return None
    if domain not in (name.lower() for name in names.get_values_for_type(x509.DNSName)):
        return None
    not_before, not_after = leaf.not_valid_before_utc, leaf.not_valid_after_utc
    if not not_before - CLOCK_SKEW <= now.astimezone(UTC) <= not_after:
        return None
    return not_before, not_after
