"""The logs plugin's per-app state: the settings in force and the buffer."""

from __future__ import annotations

from typing import Any

from pbk_sdk.state import StateKey

from .buffer import LogBuffer
from .options import LogOptions


class Logs:
    """``options`` is replaced whole on each settings change, so readers need no lock."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.options = LogOptions()
        self.buffer = LogBuffer(app.aux_db, lambda: self.options.max_data_size)

    def reload_options(self) -> LogOptions:
        self.options = LogOptions.read(self.app.settings)
        return self.options


LOGS: StateKey[Logs] = StateKey("logs", Logs)
