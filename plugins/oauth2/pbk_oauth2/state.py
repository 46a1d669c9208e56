"""What the plugin keeps per app (per worker), made when the app starts: the installed
providers, one HTTP client for the providers' APIs, and the Apple names this worker got,
awaiting their sign-in (on any worker: ``apple_names.py``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pbk_sdk.state import StateKey

from .apple_names import AppleNames
from .catalogue import Catalogue
from .protocol import TIMEOUT_SECONDS

if TYPE_CHECKING:
    import httpx


@dataclass
class OAuth2State:
    catalogue: Catalogue
    apple_names: AppleNames = field(default_factory=AppleNames)
    _http: httpx.AsyncClient | None = field(default=None, init=False)

    @property
    def http(self) -> httpx.AsyncClient:
        """The providers' client, made on first use: importing httpx and making a client
        (httpcore, anyio) would lengthen every worker's start, for apps without OAuth2 too."""
        if self._http is None:
            import httpx

            self._http = httpx.AsyncClient(timeout=TIMEOUT_SECONDS)
        return self._http

    async def close(self) -> None:
        if self._http is not None:
            await self._http.aclose()


OAUTH2: StateKey[OAuth2State] = StateKey("oauth2")
