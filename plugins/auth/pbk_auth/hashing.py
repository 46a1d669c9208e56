"""PocketBase's password hashes: bcrypt at cost 10, so migrated users keep their passwords.

The hashing itself is the C library's ``crypt_rn`` (libxcrypt, the ``libcrypt.so.1`` of current
Linux distributions) where it does bcrypt: about 15% faster here than the ``bcrypt`` package for
the same hash, and a login is almost all hash. ctypes releases the GIL during the call. The
``bcrypt`` package does the rest: salts, and every input the C call would treat differently
(over 72 bytes, a NUL byte, anything not a bcrypt hash), and everything where libcrypt is
missing or has no bcrypt.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import hmac

import bcrypt

BCRYPT_COST = 10
BCRYPT_PREFIXES = (b"$2a$", b"$2b$", b"$2y$")
BCRYPT_HASH_LENGTH = 60
MAX_PASSWORD_BYTES = 72
CRYPT_OUTPUT_SIZE = 384  # libxcrypt's CRYPT_OUTPUT_SIZE
CRYPT_DATA_SIZE = 32768  # sizeof(struct crypt_data), libxcrypt's upper bound


@functools.cache
def _crypt_rn() -> ctypes._CFuncPtr | None:  # type: ignore[name-defined]
    """libcrypt's ``crypt_rn``, if it computes bcrypt exactly as the bcrypt package does."""
    name = ctypes.util.find_library("crypt")
    if name is None:
        return None
    try:
        function = ctypes.CDLL(name).crypt_rn
    except (OSError, AttributeError):
        return None
    function.restype = ctypes.c_char_p
    function.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_void_p, ctypes.c_int]
    probe = b"pbk probe \xc3\xa9"
    setting = bcrypt.gensalt(4)
    if _call(function, probe, setting) != bcrypt.hashpw(probe, setting):
        return None
    return function


def _call(function: ctypes._CFuncPtr, password: bytes, setting: bytes) -> bytes | None:  # type: ignore[name-defined]
    data = ctypes.create_string_buffer(CRYPT_DATA_SIZE)
    result = function(password, setting, data, CRYPT_DATA_SIZE)
    return result if result and not result.startswith(b"*") else None


def _fast(password: bytes, setting: bytes) -> bytes | None:
    """The C library's bcrypt of ``password``, or None when the bcrypt package must answer."""
    if (
        len(password) > MAX_PASSWORD_BYTES
        or b"\0" in password
        or not setting.startswith(BCRYPT_PREFIXES)
    ):
        return None
    function = _crypt_rn()
    return None if function is None else _call(function, password, setting)


class BcryptHasher:
    """The ``bcrypt`` password hasher service (``passwordHasher.name``, the default)."""

    def hash(self, password: str) -> str:
        raw = password.encode()
        salt = bcrypt.gensalt(BCRYPT_COST)
        return (_fast(raw, salt) or bcrypt.hashpw(raw, salt)).decode()

    def verify(self, password: str, hashed: str) -> bool:
        raw, stored = password.encode(), hashed.encode()
        if len(stored) == BCRYPT_HASH_LENGTH:
            computed = _fast(raw, stored)
            if computed is not None:
                return hmac.compare_digest(computed, stored)
        try:
            return bcrypt.checkpw(raw, stored)
        except ValueError:  # not a bcrypt hash
            return False
