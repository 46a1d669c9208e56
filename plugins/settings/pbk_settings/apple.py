"""``POST /api/settings/apple/generate-client-secret`` (superusers only): the client secret
"Sign in with Apple" wants, an ES256 JWT signed with the developer's P-256 key, built as
PocketBase's ``AppleClientSecretCreate`` form builds it.

Header ``{"alg":"ES256","kid":keyId,"typ":"JWT"}``; claims ``iss`` (teamId), ``sub``
(clientId), ``aud`` (``["https://appleid.apple.com"]``), ``exp`` (now + duration) and ``iat``
(now), in that order, as Go's JSON writes them. The key is the first PEM block of
``privateKey``: a PKCS#8 or SEC 1 EC key on P-256.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import re
import time
from typing import Any

from pbk_sdk.auth import require_superuser
from pbk_sdk.errors import ApiError, FieldError

from .forms import read_form
from .rules import at_least, at_most, check, collect, length, required

INVALID = "Invalid client secret data."
FAILED = "Failed to generate client secret."
FORM = {"clientId": "", "teamId": "", "keyId": "", "privateKey": "", "duration": 0}
#: At most about six months, Apple's limit.
MAX_DURATION = 15777000
AUDIENCE = "https://appleid.apple.com"

NOT_PEM = "invalid key: Key must be a PEM encoded PKCS1 or PKCS8 key"
NOT_EC = "key is not a valid ECDSA private key"
WRONG_CURVE = "key is invalid"
PKCS1_RSA = "x509: failed to parse private key (use ParsePKCS1PrivateKey instead for this key format)"
BAD_DER = "x509: failed to parse private key"

PEM_BLOCK = re.compile(r"(?:\A|\n)-----BEGIN ([^\n]*?)-----[ \t]*\r?\n")
#: Go's JSON encoder escapes these inside strings.
GO_JSON_ESCAPES = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026",
                                 "\u2028": "\\u2028", "\u2029": "\\u2029"})


def private_key_block(value: Any) -> FieldError | None:
    """PocketBase's pattern for the key: ``-----BEGIN PRIVATE KEY----`` and, at least one
    character later, ``-----END PRIVATE KEY-----`` (found in linear time)."""
    begin, end = "-----BEGIN PRIVATE KEY----", "-----END PRIVATE KEY-----"
    start = value.find(begin) if value else -1
    if not value or (start >= 0 and value.rfind(end) > start + len(begin)):
        return None
    return FieldError("validation_match_invalid", "Must be in a valid format.")


class UnusableKey(Exception):
    """The private key cannot sign ES256; ``str()`` is the message PocketBase gives."""


class AppleClientSecretResource:
    """``/api/settings/apple/generate-client-secret``."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def on_post(self, req: Any, resp: Any) -> None:
        require_superuser(req)
        form = await read_form(req, FORM)
        errors = collect(
            clientId=check(form["clientId"], required),
            teamId=check(form["teamId"], required, length(10, 10)),
            keyId=check(form["keyId"], required, length(10, 10)),
            privateKey=check(form["privateKey"], required, private_key_block),
            duration=check(form["duration"], required, at_least(1), at_most(MAX_DURATION)),
        )
        if errors:
            raise ApiError(400, INVALID, errors)
        try:
            # Off the event loop: parsing a huge pasted key (an RSA one, say) takes a while.
            secret = await asyncio.to_thread(client_secret, form["clientId"], form["teamId"], form["keyId"],
                                             form["privateKey"], form["duration"])
        except UnusableKey as error:
            raise ApiError(400, f"{FAILED} Raw error: \n{error}") from error
        resp.media = {"secret": secret}


def client_secret(client_id: str, team_id: str, key_id: str, private_key: str, duration: int,
                  now: float | None = None) -> str:
    """The signed JWT; ``UnusableKey`` when the key cannot sign ES256."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, utils

    key = load_p256_key(private_key.strip())
    issued = int(time.time() if now is None else now)
    header = {"alg": "ES256", "kid": key_id, "typ": "JWT"}
    claims = {"iss": team_id, "sub": client_id, "aud": [AUDIENCE], "exp": issued + duration, "iat": issued}
    signing_input = f"{_segment(header)}.{_segment(claims)}"
    r, s = utils.decode_dss_signature(key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256())))
    signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    return f"{signing_input}.{_b64(signature)}"


def load_p256_key(text: str) -> Any:
    """The EC P-256 private key in the first PEM block of ``text`` (Go's ``pem.Decode``, then
    ``x509.ParseECPrivateKey`` or ``ParsePKCS8PrivateKey``)."""
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    from cryptography.hazmat.primitives.serialization import load_der_private_key

    der = first_pem_block(text)
    if der is None:
        raise UnusableKey(NOT_PEM)
    try:
        key = load_der_private_key(der, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm) as error:
        raise UnusableKey(BAD_DER) from error
    if isinstance(key, rsa.RSAPrivateKey) and not _is_pkcs8(key, der):
        raise UnusableKey(PKCS1_RSA)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise UnusableKey(NOT_EC)
    if not isinstance(key.curve, ec.SECP256R1):
        raise UnusableKey(WRONG_CURVE)
    return key


def first_pem_block(text: str) -> bytes | None:
    """The bytes of the first PEM block (its base64 body, headers skipped), or None."""
    begin = PEM_BLOCK.search(text)
    if begin is None:
        return None
    end = text.find(f"\n-----END {begin.group(1)}-----", begin.end() - 1)
    if end < 0:
        return None
    lines = text[begin.end():end + 1].splitlines()
    body = "".join(line for line in lines if ":" not in line).replace(" ", "").replace("\t", "")
    try:
        return base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError):
        return None


def _is_pkcs8(key: Any, der: bytes) -> bool:
    """Whether ``der`` is the key in PKCS#8 (re-encoding it so gives the same bytes); Go reads
    an RSA key in PKCS#1 with a different error."""
    from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

    return bool(key.private_bytes(Encoding.DER, PrivateFormat.PKCS8, NoEncryption()) == der)


def _segment(value: Any) -> str:
    return _b64(json.dumps(value, separators=(",", ":"), ensure_ascii=False).translate(GO_JSON_ESCAPES).encode())


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()
