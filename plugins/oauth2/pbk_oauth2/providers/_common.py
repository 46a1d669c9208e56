"""Reading a provider's JSON the way PocketBase's Go structs read it.

PocketBase decodes each user API answer into a typed struct: a missing or ``null`` field is
the zero value (``""``, ``0``, ``false``), a field of the wrong type fails the sign-in. These
helpers do the same for a dotted path into the answer, so every provider maps its fields with
one line each and refuses the same malformed answers PocketBase refuses.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from pbk_sdk.oauth2 import OAuth2Provider, OAuth2Token, ProviderError, as_object

#: Go's ``time.RFC3339`` layout as ``time.Parse`` accepts it (fractional seconds allowed).
RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})")
#: Go's ``time.Time{}``, which ``IsZero`` reports.
GO_ZERO_TIME = datetime(1, 1, 1, tzinfo=UTC)
#: Answers of an e-mail list meaning "no access to e-mails" (the scope was not granted):
#: the user signs in without an e-mail, as in PocketBase.
NO_EMAIL_ACCESS = (401, 403, 404)


def lookup(raw: Any, path: str) -> Any:
    """The value at ``path`` (``"data.viewer.id"``), ``None`` when a step is missing or null;
    a step through something that is not an object fails, as Go's decoder does."""
    value = raw
    for step in path.split("."):
        if value is None:
            return None
        if not isinstance(value, dict):
            raise ProviderError(f"expected an object before {step!r} in {path!r}")
        value = value.get(step)
    return value


def text(raw: Any, path: str) -> str:
    """A string field (``""`` when absent)."""
    value = lookup(raw, path)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ProviderError(f"{path} is not a string: {value!r}")
    return value


def number(raw: Any, path: str) -> int:
    """An integer field (``0`` when absent), such as the numeric user ids."""
    value = lookup(raw, path)
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int):
        raise ProviderError(f"{path} is not an integer: {value!r}")
    return value


def flag(raw: Any, path: str) -> bool:
    """A boolean field (``False`` when absent); ``"true"`` is not a boolean here."""
    value = lookup(raw, path)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise ProviderError(f"{path} is not a boolean: {value!r}")
    return value


def objects(raw: Any, path: str) -> list[Any]:
    """A list field (``[]`` when absent); items are read with the helpers above."""
    value = lookup(raw, path)
    if value is None:
        return []
    if not isinstance(value, list):
        raise ProviderError(f"{path} is not a list: {value!r}")
    return value


def first(raw: Any, path: str) -> Any:
    """The first item of a list field, ``None`` when it is empty."""
    found = objects(raw, path)
    return found[0] if found else None


def rfc3339_set(value: str) -> bool:
    """Whether ``value`` is an RFC 3339 time other than Go's zero time (GitLab's
    ``confirmed_at`` says the e-mail was confirmed)."""
    if not RFC3339.fullmatch(value):
        return False
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return False
    return moment != GO_ZERO_TIME


async def optional_json(provider: OAuth2Provider, token: OAuth2Token, url: str,
                        absent: tuple[int, ...] | range) -> Any:
    """GET ``url`` with the token; ``None`` when the status is one of ``absent`` (the user
    did not grant that data), else the answer's JSON (not JSON is a ProviderError)."""
    response = await provider.request(token, "GET", url)
    if response.status_code in absent:
        return None
    try:
        return response.json()
    except ValueError as error:
        raise ProviderError(f"{url} answered no JSON: {error}") from error


async def graphql(provider: OAuth2Provider, token: OAuth2Token, query: str) -> dict[str, Any]:
    """POST ``query`` to the provider's GraphQL endpoint (``user_info_url``) as JSON; the
    answer's object (its ``data``/``errors`` are the mapping's to read)."""
    return as_object(await provider.request_json(token, "POST", provider.user_info_url,
                                                 json={"query": query}))


async def get_user_with_headers(provider: OAuth2Provider, token: OAuth2Token,
                                headers: dict[str, str]) -> dict[str, Any]:
    """GET ``user_info_url`` with the token and the extra ``headers`` an API wants (a
    version, the client id); the answer's object."""
    return as_object(await provider.request_json(token, "GET", provider.user_info_url,
                                                 headers=headers))
