"""Per-app plugin state: one typed place instead of module-level dictionaries keyed by app.

A plugin declares a key once, next to the class it keeps::

    RECORDS: StateKey[RecordsPlugin] = StateKey("records", RecordsPlugin)

and reads it with ``app.state[RECORDS]``, which builds ``RecordsPlugin(app)`` on first use
(keys without a factory must be set first: ``app.state[KEY] = value``). Two apps in one
process (tests do this) never share state, and the state goes away with its app.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class StateKey(Generic[T]):
    """Names one piece of per-app state; ``factory(app)`` builds it on first read."""

    __slots__ = ("factory", "name")

    def __init__(self, name: str, factory: Callable[[Any], T] | None = None) -> None:
        self.name = name
        self.factory = factory

    def __repr__(self) -> str:
        return f"StateKey({self.name!r})"


class AppState:
    """``app.state``: values by ``StateKey``, typed by the key."""

    __slots__ = ("_app", "_values")

    def __init__(self, app: Any) -> None:
        self._app = app
        self._values: dict[StateKey[Any], Any] = {}

    def __getitem__(self, key: StateKey[T]) -> T:
        try:
            return self._values[key]  # type: ignore[no-any-return]
        except KeyError:
            if key.factory is None:
                raise LookupError(
                    f"app state {key.name!r} is not set: is the plugin that keeps it loaded?"
                ) from None
        value = self._values[key] = key.factory(self._app)
        return value

    def __setitem__(self, key: StateKey[T], value: T) -> None:
        self._values[key] = value

    def __contains__(self, key: StateKey[Any]) -> bool:
        return key in self._values

    def get(self, key: StateKey[T], default: T | None = None) -> T | None:
        """The value if set (never built by the factory), else ``default``."""
        return self._values.get(key, default)

    def pop(self, key: StateKey[T], default: T | None = None) -> T | None:
        return self._values.pop(key, default)  # type: ignore[no-any-return]
