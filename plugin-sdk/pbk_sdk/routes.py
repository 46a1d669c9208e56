"""Route declarations and the URL templates pbk serves.

falcon refuses two templates that name the same path segment differently, so plugins that
share a prefix take their templates from here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

HEALTH = "/api/health"
COLLECTIONS = "/api/collections"
COLLECTION = "/api/collections/{collection}"
RECORDS = "/api/collections/{collection}/records"
RECORD = "/api/collections/{collection}/records/{record_id}"
FILE = "/api/files/{collection}/{record_id}/{filename}"
REALTIME = "/api/realtime"
SETTINGS = "/api/settings"
BATCH = "/api/batch"


@dataclass(frozen=True)
class Route:
    """A falcon resource served at ``template``; ``suffix`` selects ``on_<method>_<suffix>``.

    Responders must be ``async def``. ``HEAD`` is answered by ``on_get`` when the resource has
    no ``on_head``, as in PocketBase.
    """

    template: str
    resource: Any
    suffix: str | None = None
