"""Apple sends the user's name only once, in the form it posts to ``/api/oauth2-redirect``
(``user``), never in its ``id_token``; PocketBase keeps it a minute under the code so the
``auth-with-oauth2`` call that follows can use it. Kept per process, as PocketBase keeps it in
its app store (with several workers the redirect and the sign-in may meet different ones; the
name is then missing, as when Apple omits it)."""

from __future__ import annotations

import json
import time

KEEP_SECONDS = 60.0
MAX_NAME = 150
MAX_KEY = 1000


class AppleNames:
    def __init__(self) -> None:
        self._names: dict[str, tuple[str, float]] = {}

    def keep(self, code: str, user_field: str) -> None:
        """Remember the name in Apple's ``user`` JSON for ``code`` (nothing when unreadable)."""
        if not user_field or not code or len(code) > MAX_KEY:
            return
        try:
            name = json.loads(user_field).get("name") or {}
            full = f"{name.get('firstName') or ''} {name.get('lastName') or ''}"[:MAX_NAME].strip()
        except (ValueError, AttributeError):
            return
        now = time.monotonic()
        self._names = {k: v for k, v in self._names.items() if v[1] > now}
        if full:
            self._names[code] = (full, now + KEEP_SECONDS)

    def take(self, code: str) -> str:
        """The name kept for ``code`` (removed), or ``""``."""
        name, until = self._names.pop(code, ("", 0.0))
        return name if until > time.monotonic() else ""
