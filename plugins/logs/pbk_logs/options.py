"""The ``logs`` settings section, read once per change instead of once per request."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

#: PocketBase's defaults for the section.
DEFAULTS = {"maxDataSize": 0, "maxDays": 5, "minLevel": 0, "logIP": True, "logAuthId": False}


def _int(value: Any, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


@dataclass(frozen=True)
class LogOptions:
    """``maxDays`` 0 turns logging off entirely; ``minLevel`` drops quieter entries;
    ``maxDataSize`` bounds a row's ``data`` (0: PocketBase's default)."""

    max_days: int = 5
    min_level: int = 0
    log_ip: bool = True
    log_auth_id: bool = False
    max_data_size: int = 0

    @property
    def enabled(self) -> bool:
        return self.max_days > 0

    @classmethod
    def read(cls, settings: Any) -> LogOptions:
        section = settings.get("logs") or {}
        if not isinstance(section, dict):
            section = {}
        return cls(
            max_days=_int(section.get("maxDays"), DEFAULTS["maxDays"]),
            min_level=_int(section.get("minLevel"), DEFAULTS["minLevel"]),
            log_ip=bool(section.get("logIP", DEFAULTS["logIP"])),
            log_auth_id=bool(section.get("logAuthId", DEFAULTS["logAuthId"])),
            max_data_size=max(0, _int(section.get("maxDataSize"), DEFAULTS["maxDataSize"])),
        )
