"""The shape of PocketBase's settings document and how a PATCH body is loaded into it.

PocketBase unmarshals the body into its settings struct, so keys match case-insensitively,
unknown keys are dropped, a value of the wrong JSON type fails the whole request, ``null``
leaves an object untouched and zeroes anything else, and a list replaces the list (each new
element starting from zero values). ``conform`` does the same against the current document.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from pbk_sdk.mappings import deep_merge

#: PocketBase 0.40's defaults, in its order (GET /api/settings of a new app). Sections that no
#: plugin declares are shown with these values; those that one declares use its defaults.
POCKETBASE_DEFAULTS: dict[str, Any] = {
    "superuserIPs": [],
    "smtp": {"enabled": False, "port": 587, "host": "smtp.example.com", "username": "", "password": "",
             "authMethod": "", "tls": False, "localName": ""},
    "backups": {"cron": "", "cronMaxKeep": 3, "s3": {"enabled": False, "bucket": "", "region": "",
                                                      "endpoint": "", "accessKey": "", "secret": "",
                                                      "forcePathStyle": False}},
    "s3": {"enabled": False, "bucket": "", "region": "", "endpoint": "", "accessKey": "", "secret": "",
           "forcePathStyle": False},
    "meta": {"accentColor": "#1055c9", "appName": "Acme", "appURL": "http://localhost:8090",
             "senderName": "Support", "senderAddress": "support@example.com", "hideControls": False},
    "rateLimits": {
        "rules": [
            {"label": "*:auth", "audience": "", "duration": 3, "maxRequests": 2},
            {"label": "*:create", "audience": "", "duration": 5, "maxRequests": 20},
            {"label": "/api/batch", "audience": "", "duration": 1, "maxRequests": 3},
            {"label": "/api/", "audience": "", "duration": 10, "maxRequests": 300},
        ],
        "excludedIPs": [],
        "enabled": False,
    },
    "trustedProxy": {"headers": [], "useLeftmostIP": False},
    "batch": {"enabled": False, "maxRequests": 50, "timeout": 3, "maxBodySize": 0},
    "logs": {"maxDataSize": 0, "maxDays": 5, "minLevel": 0, "logIP": True, "logAuthId": False},
}

#: Write-only values: accepted and stored, never returned (checked on the 0.40.6 binary).
SECRETS: tuple[tuple[str, ...], ...] = (("smtp", "password"), ("s3", "secret"), ("backups", "s3", "secret"))

#: Element types of PocketBase's lists that are empty by default.
LIST_ELEMENTS: dict[tuple[str, ...], Any] = {
    ("superuserIPs",): "",
    ("rateLimits", "excludedIPs"): "",
    ("trustedProxy", "headers"): "",
    ("rateLimits", "rules"): {"label": "", "audience": "", "duration": 0, "maxRequests": 0},
}


#: Go's ``int`` and ``int64``, the type of every number in PocketBase's settings.
INT64 = (-(2**63), 2**63 - 1)


class LoadError(ValueError):
    """The body does not fit the settings document (PocketBase: a JSON unmarshal error)."""



def with_defaults(settings: Mapping[str, Any]) -> dict[str, Any]:
    """The settings with PocketBase's defaults under them (its sections first, in its order)."""
    return deep_merge(POCKETBASE_DEFAULTS, settings)


def public(settings: Mapping[str, Any]) -> dict[str, Any]:
    """A copy without the write-only secrets."""
    out = copy.deepcopy(dict(settings))
    for path in SECRETS:
        node: Any = out
        for part in path[:-1]:
            node = node.get(part) if isinstance(node, dict) else None
        if isinstance(node, dict):
            node.pop(path[-1], None)
    return out


def diff(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
    """What to deep-merge into ``old`` to get ``new`` (keys are never removed)."""
    out: dict[str, Any] = {}
    for key, value in new.items():
        before = old.get(key)
        if isinstance(value, Mapping) and isinstance(before, Mapping):
            changes = diff(before, value)
            if changes:
                out[key] = changes
        elif key not in old or type(before) is not type(value) or before != value:
            out[key] = copy.deepcopy(value)
    return out


def zero(value: Any) -> Any:
    if isinstance(value, bool):
        return False
    if isinstance(value, (int, float)):
        return 0
    if isinstance(value, str):
        return ""
    if isinstance(value, list):
        return []
    if isinstance(value, Mapping):
        return {k: zero(v) for k, v in value.items()}
    return None


def _match(key: str, current: Mapping[str, Any], fold_case: bool) -> str | None:
    if key in current or not fold_case:
        return key if key in current else None
    folded = key.casefold()
    return next((k for k in current if k.casefold() == folded), None)


def _check_type(value: Any, like: Any, path: tuple[str, ...], fold_case: bool) -> Any:
    if like is None:
        return value
    if isinstance(like, Mapping):
        if not isinstance(value, Mapping):
            raise LoadError(".".join(path))
        return conform(value, like, path, fold_case=fold_case)
    ok = (
        isinstance(value, bool) if isinstance(like, bool)
        else isinstance(value, int) and not isinstance(value, bool) and INT64[0] <= value <= INT64[1]
        if isinstance(like, int)
        else isinstance(value, (int, float)) and not isinstance(value, bool) if isinstance(like, float)
        else isinstance(value, str) if isinstance(like, str)
        else isinstance(value, list) if isinstance(like, list)
        else True
    )
    if not ok:
        raise LoadError(".".join(path))
    if isinstance(like, list):
        element = like[0] if like else LIST_ELEMENTS.get(path)
        if element is None:
            return copy.deepcopy(value)
        items = []
        for index, item in enumerate(value):
            if item is None:
                items.append(zero(element))
            elif isinstance(element, Mapping):
                items.append(deep_merge(zero(element), _check_type(item, element, (*path, str(index)), fold_case)))
            else:
                items.append(_check_type(item, element, (*path, str(index)), fold_case))
        return items
    return value


def conform(
    patch: Mapping[str, Any], current: Mapping[str, Any], path: tuple[str, ...] = (), *, fold_case: bool = True
) -> dict[str, Any]:
    """``patch`` loaded into the shape of ``current``; raises ``LoadError`` on a type mismatch.
    Keys match case-insensitively (a JSON body) unless ``fold_case`` is off (``@jsonPayload``)."""
    out: dict[str, Any] = {}
    for key, value in patch.items():
        target = _match(str(key), current, fold_case)
        if target is None:
            continue  # PocketBase has no such setting: dropped, as its JSON decoding drops it
        like = current[target]
        if value is None:
            if isinstance(like, Mapping):
                continue
            out[target] = zero(like)
            continue
        out[target] = _check_type(value, like, (*path, target), fold_case)
    return out
