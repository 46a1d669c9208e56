"""Table-driven API scenarios, as PocketBase's ``tests.ApiScenario``: request → status, JSON."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..priorities import OBSERVE

ANY = object()


def contains(actual: Any, expected: Any, path: str = "$") -> None:
    """Assert ``expected`` is a subset of ``actual`` (dicts by key, lists element-wise, exact
    lengths for lists). ``ANY`` matches anything present."""
    if expected is ANY:
        return
    if isinstance(expected, Mapping):
        assert isinstance(actual, Mapping), f"{path}: expected an object, got {actual!r}"
        for key, value in expected.items():
            assert key in actual, f"{path}: missing key {key!r} in {actual!r}"
            contains(actual[key], value, f"{path}.{key}")
    elif isinstance(expected, list):
        assert isinstance(actual, list), f"{path}: expected a list, got {actual!r}"
        assert len(actual) == len(expected), (
            f"{path}: {len(actual)} items, expected {len(expected)}: {actual!r}"
        )
        for index, (a, e) in enumerate(zip(actual, expected, strict=True)):
            contains(a, e, f"{path}[{index}]")
    else:
        assert actual == expected, f"{path}: {actual!r} != {expected!r}"


@dataclass
class Scenario:
    name: str
    method: str
    url: str
    status: int
    json: Any = None
    body: Any = None
    auth: str | None = None  # "superuser", "user", "user2" or None
    absent: tuple[str, ...] = ()  # keys that must not be in the (item) JSON
    events: Mapping[str, int] = field(default_factory=dict)
    check: Callable[[Any], None] | None = None

    def __repr__(self) -> str:
        return self.name


async def run(scenario: Scenario, client: Any, tokens: Mapping[str, str], spy: Any = None) -> Any:
    headers = {}
    if scenario.auth:
        headers["Authorization"] = tokens[scenario.auth]
    kwargs: dict[str, Any] = {"headers": headers}
    if scenario.body is not None:
        kwargs["json"] = scenario.body
    if spy is not None:
        spy.clear()
    result = await client.simulate_request(scenario.method, scenario.url, **kwargs)
    assert result.status_code == scenario.status, (
        f"{scenario.name}: {result.status_code} {result.text}"
    )
    if scenario.json is not None:
        contains(result.json, scenario.json)
    for key in scenario.absent:
        body = result.json
        items = body.get("items", [body]) if isinstance(body, dict) else body
        for item in items:
            assert key not in item, f"{scenario.name}: {key!r} leaked in {item!r}"
    if spy is not None and scenario.events:
        for name, count in scenario.events.items():
            if name == "*":
                continue
            fired = spy.count(name)
            assert fired == count, f"{scenario.name}: {name} fired {fired} times"
        if scenario.events.get("*") == 0:
            unexpected = set(spy.names()) - set(scenario.events)
            assert not unexpected, f"{scenario.name}: unexpected events {unexpected}"
    if scenario.check is not None:
        scenario.check(result.json)
    return result


class EventSpy:
    """Counts the events fired on an app's bus, by name (add the names you want to watch)."""

    def __init__(self, app: Any, names: list[str]) -> None:
        self.fired: list[str] = []
        self._subscriptions = [
            app.events.on(name, self._handler(name), priority=OBSERVE) for name in names
        ]

    def _handler(self, name: str) -> Callable[[Any], Any]:
        async def record(event: Any) -> None:
            self.fired.append(name)
            await event.next()

        return record

    def clear(self) -> None:
        self.fired.clear()

    def count(self, name: str) -> int:
        return self.fired.count(name)

    def names(self) -> list[str]:
        return list(dict.fromkeys(self.fired))

    def close(self) -> None:
        for subscription in self._subscriptions:
            subscription.remove()
