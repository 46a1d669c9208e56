"""Random ids in PocketBase's shape: 15 characters of ``[a-z0-9]``, from ``secrets``."""

from __future__ import annotations

import secrets
import string

ID_ALPHABET = string.ascii_lowercase + string.digits


def new_id(length: int = 15, alphabet: str = ID_ALPHABET) -> str:
    """A random record-style id (PocketBase's default for records, OTPs, MFAs ...)."""
    return "".join(secrets.choice(alphabet) for _ in range(length))
