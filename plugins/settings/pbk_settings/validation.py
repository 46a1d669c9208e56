"""PocketBase's checks of its settings document (``core/settings_model.go``), run on every save.

``settings_errors(settings)`` answers the field errors nested as PocketBase nests them
(``{"meta": {"appName": ...}, "rateLimits": {"rules": {"0": {"label": ...}}}}``), each with
PocketBase's code, message and params; every case was compared with the 0.40.6 binary
(``tests/test_settings_validation.py``). Sections without an error are left out.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Mapping
from typing import Any

from pbk_sdk import cron
from pbk_sdk.errors import FieldError
from pbk_sdk.formats import is_email, is_hex_color, is_host, is_url

from .rules import (
    MAX_SAFE_JSON_INT,
    at_least,
    at_most,
    check,
    collect,
    each,
    format_of,
    length,
    matches,
    one_of,
    required,
    section,
    when,
)

URL = format_of(is_url, "validation_is_url", "Must be a valid URL.")
EMAIL = format_of(is_email, "validation_is_email", "Must be a valid email address.")
HOST = format_of(is_host, "validation_is_host", "Must be a valid IP address or DNS name.")
HEX_COLOR = format_of(is_hex_color, "validation_is_hex_color", "Must be a valid hexadecimal color code.")

#: Rate limit labels: ``METHOD /path``, ``/path`` (``/prefix/``), ``collection:tag``,
#: ``*:tag`` or a plain tag (Go's ``\w`` is ASCII).
RATE_LIMIT_LABEL = re.compile(r"\A(?:\w+ /[\w/-]*|/[\w/-]*|\w+:\w+|\*:\w+|\w+)\Z", re.ASCII)
RATE_LIMIT_AUDIENCES = ("", "@guest", "@auth")
SMTP_AUTH_METHODS = ("PLAIN", "LOGIN")


def is_ip_or_subnet(value: str) -> bool:
    """Go's ``netip.ParsePrefix`` or ``netip.ParseAddr`` accepts it: ``address/bits`` (no zone,
    bits without a sign or leading zero, host bits may be set) or an address (an IPv6 one may
    carry a ``%zone`` of any characters, ``/`` included)."""
    address, slash, bits = value.rpartition("/")
    if slash and bits.isascii() and bits.isdigit() and (len(bits) == 1 or bits[0] != "0"):
        parsed = go_parse_addr(address)
        if parsed is not None and "%" not in address and int(bits) <= parsed.max_prefixlen:
            return True
    return go_parse_addr(value) is not None


def go_parse_addr(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """Go's ``netip.ParseAddr``: the first of ``.``, ``:`` or ``%`` decides between IPv4 and
    IPv6; only IPv6 takes a zone, which must not be empty."""
    kind = next((char for char in value if char in ".:%"), "")
    address, percent, zone = value.partition("%") if kind == ":" else (value, "", "")
    if not kind or kind == "%" or (percent and not zone) or not address.isascii():
        return None
    try:
        return ipaddress.IPv6Address(address) if kind == ":" else ipaddress.IPv4Address(address)
    except ValueError:
        return None


IP_OR_SUBNET = format_of(is_ip_or_subnet, "validation_invlaid_ip_or_subnet", "Invalid IP or CIDR subnet.")


def cron_expression(value: Any) -> FieldError | None:
    if not value:
        return None
    try:
        cron.parse(value)
    except cron.CronError as error:
        return FieldError("validation_invalid_cron", str(error))
    return None


def meta_errors(meta: Mapping[str, Any]) -> dict[str, Any]:
    return collect(
        accentColor=check(meta.get("accentColor"), length(7, 7), HEX_COLOR),
        appName=check(meta.get("appName"), required, length(1, 255)),
        appURL=check(meta.get("appURL"), required, URL),
        senderName=check(meta.get("senderName"), required, length(1, 255)),
        senderAddress=check(meta.get("senderAddress"), EMAIL, required),
    )


def logs_errors(logs: Mapping[str, Any]) -> dict[str, Any]:
    return collect(
        maxDataSize=check(logs.get("maxDataSize"), at_least(0), at_most(MAX_SAFE_JSON_INT)),
        maxDays=check(logs.get("maxDays"), at_least(0), at_most(MAX_SAFE_JSON_INT)),
        minLevel=check(logs.get("minLevel"), at_most(MAX_SAFE_JSON_INT)),
    )


def smtp_errors(smtp: Mapping[str, Any]) -> dict[str, Any]:
    enabled = bool(smtp.get("enabled"))
    return collect(
        host=check(smtp.get("host"), when(enabled, required), HOST),
        port=check(smtp.get("port"), when(enabled, required), at_least(0)),
        authMethod=check(smtp.get("authMethod"), one_of(*SMTP_AUTH_METHODS)),
        localName=check(smtp.get("localName"), HOST),
    )


def s3_errors(s3: Mapping[str, Any]) -> dict[str, Any]:
    """An S3 config (``s3`` and ``backups.s3``): everything required when enabled."""
    needed = when(bool(s3.get("enabled")), required)
    return collect(
        endpoint=check(s3.get("endpoint"), URL, needed),
        bucket=check(s3.get("bucket"), needed),
        region=check(s3.get("region"), needed),
        accessKey=check(s3.get("accessKey"), needed),
        secret=check(s3.get("secret"), needed),
    )


def backups_errors(backups: Mapping[str, Any]) -> dict[str, Any]:
    expression = backups.get("cron")
    return collect(
        s3=s3_errors(section(backups.get("s3"))),
        cron=cron_expression(expression),
        cronMaxKeep=check(backups.get("cronMaxKeep"), when(bool(expression), required), at_least(1)),
    )


def batch_errors(batch: Mapping[str, Any]) -> dict[str, Any]:
    enabled = bool(batch.get("enabled"))
    return collect(
        maxRequests=check(batch.get("maxRequests"), when(enabled, required), at_least(0)),
        timeout=check(batch.get("timeout"), when(enabled, required), at_least(0)),
        maxBodySize=check(batch.get("maxBodySize"), at_least(0)),
    )


def rate_limit_rule_errors(rule: Mapping[str, Any]) -> dict[str, Any]:
    return collect(
        label=check(rule.get("label"), required, matches(RATE_LIMIT_LABEL)),
        maxRequests=check(rule.get("maxRequests"), required, at_least(1)),
        duration=check(rule.get("duration"), required, at_least(1)),
        audience=check(rule.get("audience"), one_of(*RATE_LIMIT_AUDIENCES)),
    )


def conflicting_rule(rules: list[Mapping[str, Any]]) -> dict[str, Any] | None:
    """The first rule whose ``label@@audience`` is a prefix of an earlier one's or has one as
    its prefix (so a rule for every audience conflicts with one for ``@guest``)."""
    keys = [f"{rule.get('label', '')}@@{rule.get('audience', '')}" for rule in rules]
    index = first_prefix_conflict(keys)
    if index is None:
        return None
    label = str(rules[index].get("label", ""))
    return {str(index): {"label": FieldError(
        "validation_conflicting_rate_limit_rule",
        f"Rate limit rule configuration with label {label} already exists or conflicts with another rule.",
        {"label": label},
    )}}


def first_prefix_conflict(keys: list[str]) -> int | None:
    """The smallest index ``i`` such that an earlier key is a prefix of ``keys[i]`` or has it
    as a prefix (equal keys included), or None.

    Walked in sorted order, the keys that start with a key follow it directly, so a stack of
    the keys that are prefixes of the current one finds every such pair; each key carries the
    smallest index among those that start with it. O(n log n), where comparing every pair
    would let a long list of rules hold the worker for minutes."""
    order = sorted(range(len(keys)), key=keys.__getitem__)
    best: int | None = None
    stack: list[tuple[int, int | None]] = []  # (index of a key, smallest index of its extensions)

    def close() -> None:
        nonlocal best
        owner, extensions = stack.pop()
        if extensions is not None:
            conflict = max(owner, extensions)
            best = conflict if best is None else min(best, conflict)
        if stack:
            below, others = stack[-1]
            found = owner if extensions is None else min(owner, extensions)
            stack[-1] = (below, found if others is None else min(others, found))

    for index in order:
        while stack and not keys[index].startswith(keys[stack[-1][0]]):
            close()
        stack.append((index, None))
    while stack:
        close()
    return best


def rules_errors(rules: list[Mapping[str, Any]], enabled: bool) -> Any:
    """The ``rules`` list's own error, else its rules' errors by index."""
    own = when(enabled, required)(rules) or conflicting_rule(rules)
    if own:
        return own
    errors = {str(index): rate_limit_rule_errors(section(rule)) for index, rule in enumerate(rules)}
    return {index: error for index, error in errors.items() if error}


def rate_limits_errors(limits: Mapping[str, Any]) -> dict[str, Any]:
    rules = limits.get("rules")
    return collect(
        rules=rules_errors(rules if isinstance(rules, list) else [], bool(limits.get("enabled"))),
        excludedIPs=ip_list_errors(limits.get("excludedIPs")),
    )


def ip_list_errors(ips: Any) -> dict[str, FieldError]:
    return each(ips if isinstance(ips, list) else [], required, IP_OR_SUBNET)


#: Each PocketBase section and its check (``trustedProxy`` has none).
SECTIONS: dict[str, Callable[[Any], Any]] = {
    "superuserIPs": ip_list_errors,
    "meta": lambda value: meta_errors(section(value)),
    "logs": lambda value: logs_errors(section(value)),
    "smtp": lambda value: smtp_errors(section(value)),
    "s3": lambda value: s3_errors(section(value)),
    "backups": lambda value: backups_errors(section(value)),
    "batch": lambda value: batch_errors(section(value)),
    "rateLimits": lambda value: rate_limits_errors(section(value)),
}


def settings_errors(settings: Mapping[str, Any]) -> dict[str, Any]:
    """PocketBase's field errors of a whole settings document (empty when it is valid)."""
    return collect(**{name: validate(settings.get(name)) for name, validate in SECTIONS.items()})
