"""What the plugin keeps per app (per worker), made when the app starts: the installed
providers, one HTTP client for the providers' APIs, and the Apple names this worker got,
awaiting their sign-in (on any worker: ``apple_names.py``)."""

from __future__ import annotations

from dataclasses import dataclass, field

import httpx
from pbk_sdk.state import StateKey

from .apple_names import AppleNames
from .catalogue import Catalogue


@dataclass
class OAuth2State:
    catalogue: Catalogue
    http: httpx.AsyncClient
    apple_names: AppleNames = field(default_factory=AppleNames)


OAUTH2: StateKey[OAuth2State] = StateKey("oauth2")
