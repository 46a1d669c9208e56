"""OAuth2 sign-in providers: the class a provider implements and how the oauth2 plugin finds it.

PocketBase's ``tools/auth`` package is the model. A provider knows its endpoints, scopes and
whether it uses PKCE, and turns the token the code exchange returned into an ``AuthUser``;
the oauth2 plugin does the protocol itself (state, PKCE, the code exchange) and the sign-in.

A provider is a subclass of ``OAuth2Provider`` published under the entry point group
``pbk.oauth2_providers``; the entry point's name is the provider's name, the one stored in a
collection's ``oauth2.providers[].name``::

    [project.entry-points."pbk.oauth2_providers"]
    acme = "pbk_acme.provider:Acme"

The smallest provider sets its class attributes and maps the user API's JSON::

    class Acme(OAuth2Provider):
        display_name = "Acme"
        auth_url = "https://acme.example/oauth/authorize"
        token_url = "https://acme.example/oauth/token"
        user_info_url = "https://api.acme.example/me"
        scopes = ("profile", "email")

        def map_user(self, raw, token):
            return self.auth_user(raw, token, id=str(raw["id"]), name=raw.get("name", ""),
                                  email=raw["email"] if raw.get("email_verified") else "")
"""

from __future__ import annotations

import abc
import os
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import EntryPoint, entry_points
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:  # httpx is imported where a request is sent: importing it costs every worker's start tens of ms
    import httpx

#: The entry point group providers are published under (name = provider name).
ENTRY_POINT_GROUP = "pbk.oauth2_providers"

#: PocketBase's default leeway for an ``id_token``'s time claims; ``PB_ID_TOKEN_LEEWAY``
#: (seconds) changes it, as in PocketBase.
DEFAULT_ID_TOKEN_LEEWAY = 300


class ProviderError(Exception):
    """The provider's API failed or answered something unusable.

    Raise it from a provider; the plugin answers PocketBase's 400 ``Failed to fetch OAuth2
    user.`` (the message goes to the log, never to the client)."""


@dataclass(frozen=True)
class OAuth2Token:
    """What the token endpoint returned."""

    access_token: str
    refresh_token: str = ""
    token_type: str = "Bearer"
    #: When the access token expires (from ``expires_in``), ``None`` when not said.
    expiry: datetime | None = None
    #: The OpenID Connect ``id_token``, ``""`` without one.
    id_token: str = ""
    #: The whole token response, for providers that need another field of it.
    raw: Mapping[str, Any] = field(default_factory=dict)


@dataclass
class AuthUser:
    """PocketBase's ``auth.AuthUser``: the provider's user, normalised.

    ``email`` must be a VERIFIED address, ``""`` when the provider cannot vouch for it: the
    plugin links an existing account by it and marks new accounts verified with it."""

    id: str
    name: str = ""
    username: str = ""
    email: str = ""
    avatar_url: str = ""
    access_token: str = ""
    refresh_token: str = ""
    expiry: datetime | None = None
    raw_user: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The JSON PocketBase answers in ``meta`` (with its legacy ``avatarUrl`` copy)."""
        expiry = ""
        if self.expiry is not None:
            expiry = self.expiry.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] + "Z"
        return {
            "id": self.id,
            "name": self.name,
            "username": self.username,
            "email": self.email,
            "avatarURL": self.avatar_url,
            "avatarUrl": self.avatar_url,
            "accessToken": self.access_token,
            "refreshToken": self.refresh_token,
            "expiry": expiry,
            "rawUser": self.raw_user,
        }


@dataclass(frozen=True)
class ProviderConfig:
    """One entry of a collection's ``oauth2.providers``: empty values keep the class defaults."""

    client_id: str = ""
    client_secret: str = ""
    auth_url: str = ""
    token_url: str = ""
    user_info_url: str = ""
    display_name: str = ""
    #: ``None`` keeps the provider's default.
    pkce: bool | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)


class OAuth2Provider(abc.ABC):
    """Base class of every provider: class attributes are the defaults, instances are configured.

    Implement ``map_user`` (a pure function of the user API's JSON, so it can be tested with a
    recorded payload). Override ``fetch_raw_user`` when the user API is not a plain GET with a
    bearer token (a header, GraphQL, the ``id_token``), and ``fetch_auth_user`` when the user
    takes more than one call (GitHub's separate e-mail list). Call the API through
    ``self.http`` (``request_json``); raise ``ProviderError`` on anything unusable."""

    display_name: str = ""
    #: SVG markup the dashboard shows; ``order`` sorts the provider catalogue.
    logo: ClassVar[str] = ""
    order: ClassVar[int] = 100
    auth_url: str = ""
    token_url: str = ""
    user_info_url: str = ""
    scopes: tuple[str, ...] = ()
    pkce: bool = True

    def __init__(self, name: str, config: ProviderConfig, http: httpx.AsyncClient) -> None:
        cls = type(self)
        self.name = name
        self.http = http
        self.client_id = config.client_id
        self.client_secret = config.client_secret
        self.display_name = config.display_name or cls.display_name
        self.auth_url = config.auth_url or cls.auth_url
        self.token_url = config.token_url or cls.token_url
        self.user_info_url = config.user_info_url or cls.user_info_url
        self.pkce = cls.pkce if config.pkce is None else config.pkce
        self.scopes = tuple(cls.scopes)
        self.extra: dict[str, Any] = dict(config.extra)
        self.setup()

    def setup(self) -> None:
        """Adjust the instance once configured (Microsoft asks ``openid`` for some ``extra``)."""

    async def fetch_auth_user(self, token: OAuth2Token) -> AuthUser:
        """The user behind ``token``; raises ``ProviderError``."""
        return self.map_user(await self.fetch_raw_user(token), token)

    async def fetch_raw_user(self, token: OAuth2Token) -> dict[str, Any]:
        """The user API's JSON object: a GET of ``user_info_url`` with the bearer token."""
        return as_object(await self.request_json(token, "GET", self.user_info_url))

    @abc.abstractmethod
    def map_user(self, raw: dict[str, Any], token: OAuth2Token) -> AuthUser:
        """Turn the user API's JSON into an ``AuthUser`` (use ``auth_user`` to fill tokens)."""

    def auth_user(self, raw: dict[str, Any], token: OAuth2Token, **fields: Any) -> AuthUser:
        """An ``AuthUser`` with ``raw`` and the token's fields filled in, plus ``fields``."""
        return AuthUser(raw_user=raw, access_token=token.access_token,
                        refresh_token=token.refresh_token, expiry=token.expiry, **fields)

    async def request(self, token: OAuth2Token | None, method: str, url: str,
                      **kwargs: Any) -> httpx.Response:
        """Send a request with the bearer token (when given); network errors are ProviderError."""
        headers = dict(kwargs.pop("headers", None) or {})
        if token is not None:
            headers.setdefault("Authorization", f"{bearer_type(token.token_type)} {token.access_token}")
        import httpx

        try:
            return await self.http.request(method, url, headers=headers, **kwargs)
        except httpx.HTTPError as error:
            raise ProviderError(f"{method} {url}: {error}") from error

    async def request_json(self, token: OAuth2Token | None, method: str, url: str,
                           **kwargs: Any) -> Any:
        """``request``, then its JSON; a status of 400 or more is a ProviderError, as in
        PocketBase's ``sendRawUserInfoRequest``."""
        response = await self.request(token, method, url, **kwargs)
        if response.status_code >= 400:
            raise ProviderError(f"failed to fetch OAuth2 data via {url} "
                                f"({response.status_code}): {response.text[:500]}")
        try:
            return response.json()
        except ValueError as error:
            raise ProviderError(f"{url} answered no JSON: {error}") from error

    async def id_token_claims(self, token: OAuth2Token, *, jwks_url: str = "",
                              issuers: Iterable[str] = (), require_expiry: bool = False,
                              check_audience: bool = True) -> dict[str, Any]:
        """The ``id_token``'s claims, checked as PocketBase checks them: ``aud`` holds the
        client id (unless ``check_audience`` is false, as Microsoft's e-mail claims), ``iat``/
        ``exp``/``nbf`` within the leeway (``exp`` required when ``require_expiry``), ``iss``
        one of ``issuers`` when given, and the signature against the key set at ``jwks_url``
        when given. Raises ``ProviderError``."""
        from ._id_token import verified_claims

        return await verified_claims(self, token.id_token, jwks_url=jwks_url,
                                     issuers=tuple(issuers), require_expiry=require_expiry,
                                     check_audience=check_audience,
                                     leeway=id_token_leeway(), now=time.time())


def bearer_type(token_type: str) -> str:
    """The Authorization scheme as Go's oauth2 writes it (``bearer`` becomes ``Bearer``)."""
    lowered = token_type.lower()
    if lowered in ("", "bearer"):
        return "Bearer"
    if lowered in ("mac", "basic"):
        return lowered.capitalize()
    return token_type


def as_object(data: Any) -> dict[str, Any]:
    """``data`` if it is a JSON object, else a ProviderError."""
    if not isinstance(data, dict):
        raise ProviderError(f"expected a JSON object, got {type(data).__name__}")
    return data


def truthy(value: Any) -> bool:
    """Go's ``cast.ToBool``: ``true``, ``"true"``, ``"1"``, ``1`` are true (``email_verified``
    comes as a bool or a string depending on the provider)."""
    if isinstance(value, str):
        return value.strip().lower() in ("1", "t", "true")
    if isinstance(value, bool | int | float):
        return bool(value)
    return False


def id_token_leeway() -> int:
    """``PB_ID_TOKEN_LEEWAY`` seconds, else PocketBase's 5 minutes."""
    value = os.environ.get("PB_ID_TOKEN_LEEWAY", "")
    return int(value) if value.strip().lstrip("-").isdigit() else DEFAULT_ID_TOKEN_LEEWAY


def installed_providers(
        on_error: Callable[[Exception], None] | None = None) -> dict[str, type[OAuth2Provider]]:
    """Every provider class published under ``ENTRY_POINT_GROUP``, by entry point name.

    One that cannot be loaded, or is not an ``OAuth2Provider`` subclass, raises an
    ``ImportError``/``TypeError`` naming its entry point; with ``on_error`` that error is
    passed to it instead and the provider left out."""
    found: dict[str, type[OAuth2Provider]] = {}
    for entry_point in entry_points(group=ENTRY_POINT_GROUP):
        try:
            found.setdefault(entry_point.name, _load(entry_point))
        except (ImportError, TypeError) as error:
            if on_error is None:
                raise
            on_error(error)
    return found


def _load(entry_point: EntryPoint) -> type[OAuth2Provider]:
    try:
        loaded = entry_point.load()
    except Exception as error:
        raise ImportError(f"OAuth2 provider {entry_point.name!r} ({entry_point.value}) "
                          f"failed to load: {error}") from error
    if not (isinstance(loaded, type) and issubclass(loaded, OAuth2Provider)):
        raise TypeError(f"OAuth2 provider {entry_point.name!r} ({entry_point.value}) "
                        "is not an OAuth2Provider subclass")
    return loaded


def provider_names() -> frozenset[str]:
    """The names published under ``ENTRY_POINT_GROUP``, without importing a provider (what a
    collection's ``oauth2.providers[].name`` may be)."""
    return frozenset(entry_point.name for entry_point in entry_points(group=ENTRY_POINT_GROUP))
