"""The OAuth2 protocol, done with Authlib's RFC 6749/7636 functions over httpx: the consent URL
with its state and PKCE challenge, and the exchange of a code for a token.

It matches golang.org/x/oauth2 as PocketBase uses it: the URL's parameters sorted by name (so
``auth-methods`` shows the same URL), the client's credentials first in a Basic header and,
when the server refuses that, in the form (Go's auto-detected auth style), and a token answer
read as JSON or as a form.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from authlib.common.security import generate_token
from authlib.common.urls import add_params_to_uri, url_decode
from authlib.oauth2.auth import ClientAuth
from authlib.oauth2.rfc6749.parameters import prepare_token_request
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from pbk_sdk.oauth2 import OAuth2Provider, OAuth2Token

if TYPE_CHECKING:
    import httpx

#: PocketBase's lengths: a 30-character state, a 43-character PKCE verifier.
STATE_LENGTH = 30
VERIFIER_LENGTH = 43
#: PocketBase gives the exchange and the user calls 30 seconds together.
TIMEOUT_SECONDS = 30.0


class TokenError(Exception):
    """The token endpoint refused the code or answered something unusable."""


def new_state() -> str:
    return generate_token(STATE_LENGTH)


def new_code_verifier() -> str:
    return generate_token(VERIFIER_LENGTH)


def code_challenge(verifier: str) -> str:
    return create_s256_code_challenge(verifier)


def authorization_url(provider: OAuth2Provider, state: str, verifier: str = "",
                      extra: dict[str, str] | None = None) -> str:
    """The provider's consent URL without a ``redirect_uri`` (auth-methods appends an empty one
    for the client to complete)."""
    params = {"client_id": provider.client_id, "response_type": "code", "state": state,
              **(extra or {})}
    if provider.scopes:
        params["scope"] = " ".join(provider.scopes)
    if verifier:
        params["code_challenge"] = code_challenge(verifier)
        params["code_challenge_method"] = "S256"
    return add_params_to_uri(provider.auth_url, sorted(params.items()))


async def exchange_code(provider: OAuth2Provider, http: httpx.AsyncClient, code: str,
                        code_verifier: str | None, redirect_url: str) -> OAuth2Token:
    """The token for ``code``; ``code_verifier`` None when the provider does not use PKCE.
    Raises ``TokenError``."""
    extra = {} if code_verifier is None else {"code_verifier": code_verifier}
    body = prepare_token_request("authorization_code", redirect_uri=redirect_url or None,
                                 code=code, **extra)
    if code_verifier == "":
        body += "&code_verifier="  # Go sends the empty verifier too (Authlib drops empty values)
    try:
        return await _post_token(provider, http, body, "client_secret_basic")
    except TokenError:
        return await _post_token(provider, http, body, "client_secret_post")


async def _post_token(provider: OAuth2Provider, http: httpx.AsyncClient, body: str,
                      auth_method: str) -> OAuth2Token:
    import httpx  # here, not at start: see the providers' client in state.py

    headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"}
    client_auth = ClientAuth(provider.client_id, provider.client_secret, auth_method)
    url, headers, body = client_auth.prepare("POST", provider.token_url, headers, body)
    try:
        response = await http.post(url, content=body, headers=headers)
    except (httpx.HTTPError, ValueError) as error:
        raise TokenError(f"token request failed: {error}") from error
    answer = _read_answer(response)
    if not 200 <= response.status_code <= 299:
        raise TokenError(f"token endpoint answered {response.status_code}: {answer}")
    return token_from_answer(answer)


def _read_answer(response: httpx.Response) -> dict[str, Any]:
    content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type in ("application/x-www-form-urlencoded", "text/plain"):
        return dict(url_decode(response.text)) if response.text else {}
    try:
        data = response.json()
    except ValueError:
        return dict(parse_qsl(response.text))
    return data if isinstance(data, dict) else {}


def token_from_answer(answer: dict[str, Any]) -> OAuth2Token:
    """An ``OAuth2Token`` from the token endpoint's fields; an ``error`` or no access token is
    a ``TokenError``, as in Go's oauth2."""
    if answer.get("error"):
        raise TokenError(f"{answer.get('error')}: {answer.get('error_description', '')}")
    access_token = answer.get("access_token")
    if not isinstance(access_token, str) or not access_token:
        raise TokenError("server response missing access_token")
    expiry = None
    try:
        seconds = int(float(answer.get("expires_in") or 0))
    except (TypeError, ValueError):
        seconds = 0
    if seconds > 0:
        expiry = datetime.now(UTC) + timedelta(seconds=seconds)
    return OAuth2Token(access_token=access_token,
                       refresh_token=str(answer.get("refresh_token") or ""),
                       token_type=str(answer.get("token_type") or "Bearer"),
                       expiry=expiry, id_token=str(answer.get("id_token") or ""), raw=answer)
