"""Apple sends the user's name only once, in the form it posts to ``/api/oauth2-redirect``
(``user``), never in its ``id_token``; PocketBase keeps it a minute under the code so the
``auth-with-oauth2`` call that follows can use it. The process that got the redirect keeps it;
the sign-in, which may reach another worker or another node, asks every other process of the
cluster for it (``app.cluster.members()``) when it has none itself (asking rather than
broadcasting: the name is kept before the realtime client hears of the code, so no sign-in can
outrun it).
"""

from __future__ import annotations

import asyncio
import json
import time

from pbk_sdk.interfaces import Cluster

#: The cluster channel on which a process asks the others for a name (the code) and gets it.
CHANNEL = "oauth2.apple_name"
ASK_TIMEOUT = 2.0
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

    async def take_anywhere(self, cluster: Cluster, code: str) -> str:
        """The name kept for ``code`` here or by another process (removed there), or ``""``."""
        name = self.take(code)
        others = [member for member in cluster.members() if member != cluster.member]
        if name or not others or not code or len(code) > MAX_KEY:
            return name
        answers = await asyncio.gather(
            *(cluster.call_member(member, CHANNEL, code.encode(), ASK_TIMEOUT) for member in others),
            return_exceptions=True)
        return next((answer.decode() for answer in answers if isinstance(answer, bytes) and answer), "")

    async def asked(self, sender: int, code: bytes) -> bytes:
        """Another process's ``take_anywhere``."""
        return self.take(code.decode()).encode()
