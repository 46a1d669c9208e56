"""One certificate order over ACME (RFC 8555) with certbot's ``acme`` library, answered with
http-01 as autocert's ``HTTPHandler`` set-up answers it: the account is registered on first use
(its key in the cache, the terms of service accepted), the challenge's answer put in the cache
for whichever process the CA's request reaches, and the key is a fresh ECDSA P-256 one.

Blocking network calls: run ``obtain`` on a thread.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

import josepy
import requests
from acme import challenges, client, crypto_util, errors, messages
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from .cache import CertificateCache

LETS_ENCRYPT_DIRECTORY = "https://acme-v02.api.letsencrypt.org/directory"
#: How long one order may take, validation included, before it is given up (and retried later).
ORDER_SECONDS = 90
USER_AGENT = "pbk-autotls"


class IssuanceError(Exception):
    """The CA did not issue; the message says why, in one line."""


@dataclass(frozen=True)
class AcmeServer:
    """Where certificates come from: the directory URL, and the CA bundle that verifies it
    (None: the system's)."""

    directory: str = LETS_ENCRYPT_DIRECTORY
    ca_bundle: str | None = None


def obtain(server: AcmeServer, cache: CertificateCache, domain: str) -> None:
    """Order a certificate for ``domain``, validate it over http-01 and store it in ``cache``;
    ``IssuanceError`` when the CA refuses or cannot validate."""
    try:
        acme = _registered_client(server, cache)
        key = ec.generate_private_key(ec.SECP256R1())
        key_pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        order = acme.new_order(crypto_util.make_csr(key_pem, [domain]))
        deadline = datetime.datetime.now() + datetime.timedelta(seconds=ORDER_SECONDS)
        tokens = [_answer_http01(acme, cache, authorization) for authorization in order.authorizations]
        try:
            order = acme.poll_and_finalize(order, deadline)
        finally:
            for token in tokens:
                if token is not None:
                    cache.delete_http_token(token)
    except errors.ValidationError as exc:
        raise IssuanceError(_validation_problem(exc)) from None
    except messages.Error as exc:
        raise IssuanceError(_one_line(exc.detail or exc.typ or str(exc))) from None
    except errors.TimeoutError:
        raise IssuanceError(f"the CA did not finish the order within {ORDER_SECONDS} s") from None
    except requests.RequestException as exc:
        # urllib3's retry error holds the cause (refused, unknown host, certificate not trusted).
        cause = getattr(exc.args[0], "reason", exc) if exc.args else exc
        raise IssuanceError(_one_line(f"cannot reach the CA at {server.directory}: {cause}")) from None
    except (errors.Error, OSError) as exc:
        raise IssuanceError(_one_line(str(exc) or type(exc).__name__)) from None
    cache.put_certificate(domain, key, order.fullchain_pem.encode())


def _registered_client(server: AcmeServer, cache: CertificateCache) -> client.ClientV2:
    jwk = josepy.jwk.JWKEC(key=cache.account_key())
    # requests takes the path of a CA bundle where it takes True (verify with the system's).
    verify = server.ca_bundle or True
    net = client.ClientNetwork(jwk, alg=josepy.jwa.ES256, verify_ssl=verify, user_agent=USER_AGENT)  # type: ignore[arg-type]
    acme = client.ClientV2(client.ClientV2.get_directory(server.directory, net), net)
    try:
        acme.new_account(messages.NewRegistration.from_data(terms_of_service_agreed=True))
    except errors.ConflictError as exc:  # registered before: the CA points at the account
        net.account = messages.RegistrationResource(uri=exc.location, body=messages.Registration())
    return acme


def _answer_http01(acme: client.ClientV2, cache: CertificateCache, authorization: messages.AuthorizationResource) -> str | None:
    """Put the http-01 answer where every worker finds it and tell the CA to check it; None
    when the CA already holds this name as validated."""
    if authorization.body.status == messages.STATUS_VALID:
        return None
    for challenge in authorization.body.challenges:
        if isinstance(challenge.chall, challenges.HTTP01):
            response, validation = challenge.response_and_validation(acme.net.key)
            token: str = challenge.chall.encode("token")
            cache.put_http_token(token, validation)
            acme.answer_challenge(challenge, response)
            return token
    name = authorization.body.identifier.value
    raise IssuanceError(f"the CA offers no http-01 challenge for {name}")


def _validation_problem(exc: errors.ValidationError) -> str:
    for authorization in exc.failed_authzrs:
        for challenge in authorization.body.challenges:
            if challenge.error is not None:
                return _one_line(challenge.error.detail or str(challenge.error))
    return "the CA could not validate the domain"


def _one_line(text: str) -> str:
    return " ".join(str(text).split())
