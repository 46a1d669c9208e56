"""The bcrypt hasher: the C library's crypt_rn where it does bcrypt, the bcrypt package else,
with one answer for every input either way."""

from __future__ import annotations

import bcrypt
import pytest
from pbk_auth import hashing
from pbk_auth.hashing import BcryptHasher

# Made by PocketBase 0.40.6 (`superuser upsert`; Go's x/crypto/bcrypt writes $2a$) for "1234567890".
GO_HASH = "$2a$10$y0DZaOi1Pb0ow47vJ5VVVekPRbT0RD6Fm5EGKg/Lf2EK5Dy5IFeh6"

PASSWORDS = ["1234567890", "", "é ü 漢字 🙂", "x" * 71, "x" * 72, "x" * 73, "a\0b", "p" * 200]


@pytest.fixture(params=["libcrypt", "bcrypt package"])
def backend(request, monkeypatch):
    if request.param == "libcrypt":
        assert hashing._crypt_rn() is not None, "this system's libcrypt has no bcrypt"
    else:
        monkeypatch.setattr(hashing, "_crypt_rn", lambda: None)
    return request.param


def test_this_machine_uses_libcrypt():
    """Debian's libxcrypt does bcrypt: the fast path is what runs here (and in CI)."""
    assert hashing._crypt_rn() is not None


@pytest.mark.parametrize("password", PASSWORDS)
def test_every_input_gets_the_bcrypt_packages_answer(backend, password):
    hasher = BcryptHasher()
    stored = bcrypt.hashpw(password.encode()[:72].replace(b"\0", b"0"), bcrypt.gensalt(4)).decode()
    try:
        expected = bcrypt.checkpw(password.encode(), stored.encode())
    except ValueError:
        expected = False
    assert hasher.verify(password, stored) is expected
    assert hasher.verify(password + "!", stored) is False or len(password.encode()) >= 72


def test_a_hash_made_here_verifies_with_the_bcrypt_package_and_is_pocketbases_cost(backend):
    hashed = BcryptHasher().hash("a-long-password")
    assert hashed.startswith("$2b$10$") and len(hashed) == 60
    assert bcrypt.checkpw(b"a-long-password", hashed.encode())
    assert not BcryptHasher().verify("another-password", hashed)


def test_a_pocketbase_hash_verifies(backend):
    assert BcryptHasher().verify("1234567890", GO_HASH)
    assert not BcryptHasher().verify("1234567891", GO_HASH)


@pytest.mark.parametrize("stored", [
    "", "not a hash", "$2b$10$short", GO_HASH[:-1] + "?",
    # Other crypt(3) formats libxcrypt knows: never a match, as with the bcrypt package.
    "$6$saltsalt$qFmFH.bQmmtXzyBY0s9v7Oicd2z4XSIecDzlB5KiA2/jctKu9YterLp8wwnSq.qc.eoxqOmSuNp2xS0ktL3nh/",
    "$1$saltsalt$qjXMvbEw8oaL.CzflDugX/",
])
def test_anything_but_a_bcrypt_hash_never_matches(backend, stored):
    assert BcryptHasher().verify("password", stored) is False
