"""The ``rateLimits`` setting, read once per change, and PocketBase's choice of the rule that
governs a request: the first of the request's labels, most specific first, that some rule
names (exactly, or as a ``/prefix/``) for the request's audience."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

GUEST_AUDIENCES = ("", "@guest")
AUTH_AUDIENCES = ("", "@auth")


@dataclass(frozen=True, slots=True)
class Rule:
    label: str
    audience: str
    max_requests: int
    duration: int


@dataclass(frozen=True, slots=True)
class Limits:
    """What the limiter needs of the setting, ready to search."""

    enabled: bool
    excluded_ips: tuple[str, ...]
    #: The rules by label, in the setting's order.
    exact: Mapping[str, tuple[Rule, ...]]
    #: The rules whose label ends with ``/``, in the setting's order.
    prefixes: tuple[Rule, ...]

    @classmethod
    def from_setting(cls, setting: Any) -> Limits:
        setting = setting if isinstance(setting, Mapping) else {}
        rules = [rule for raw in setting.get("rules") or () if (rule := _rule(raw)) is not None]
        exact: dict[str, tuple[Rule, ...]] = {}
        for rule in rules:
            exact[rule.label] = (*exact.get(rule.label, ()), rule)
        excluded = setting.get("excludedIPs") or ()
        return cls(
            enabled=setting.get("enabled") is True and bool(rules),
            excluded_ips=tuple(ip for ip in excluded if isinstance(ip, str)),
            exact=exact,
            prefixes=tuple(rule for rule in rules if rule.label.endswith("/")),
        )

    def find(self, labels: Sequence[str], audiences: Sequence[str]) -> Rule | None:
        """PocketBase's ``FindRateLimitRule``: for each label in turn, an exact rule, then a
        prefix rule that the label (plus ``/``) starts with."""
        for label in labels:
            for rule in self.exact.get(label, ()):
                if rule.audience in audiences:
                    return rule
            slashed = label + "/"
            for rule in self.prefixes:
                if slashed.startswith(rule.label) and rule.audience in audiences:
                    return rule
        return None


def _rule(raw: Any) -> Rule | None:
    """A rule of a valid setting (the settings plugin refuses others; a hand-edited store may
    still hold one, which is ignored)."""
    if not isinstance(raw, Mapping):
        return None
    label, audience = raw.get("label"), raw.get("audience") or ""
    max_requests, duration = raw.get("maxRequests"), raw.get("duration")
    if not isinstance(label, str) or not label or not isinstance(audience, str):
        return None
    if not all(type(n) is int and n >= 1 for n in (max_requests, duration)):
        return None
    return Rule(label, audience, max_requests, duration)
