"""PATCH /api/settings bodies replayed on the real PocketBase 0.40.6 and on pbk: the same status,
the same nested ``data`` errors (codes, messages, params) and, when saved, the same document."""

from __future__ import annotations

import random
import time
from typing import Any

import pytest
from pbk_settings.shape import POCKETBASE_DEFAULTS
from pbk_settings.validation import first_prefix_conflict, is_ip_or_subnet, settings_errors

#: Every PocketBase section back to its default (secrets included), sent after each save.
RESET = {**POCKETBASE_DEFAULTS}


def cron(expression: str) -> dict[str, Any]:
    return {"backups": {"cron": expression, "cronMaxKeep": 3}}


def rules(*items: dict[str, Any], enabled: bool = False) -> dict[str, Any]:
    return {"rateLimits": {"enabled": enabled, "rules": [{"duration": 1, "maxRequests": 1, **item} for item in items]}}


CASES: dict[str, dict[str, Any]] = {
    # meta
    "meta-appName-empty": {"meta": {"appName": ""}},
    "meta-all-bad": {"meta": {"appName": "", "appURL": "bad url", "senderName": "", "senderAddress": "x",
                              "accentColor": "#12345"}},
    "meta-accent-no-hash": {"meta": {"accentColor": "1234567"}},
    "meta-accent-not-hex": {"meta": {"accentColor": "#GGGGGG"}},
    "meta-accent-empty": {"meta": {"accentColor": ""}},
    "meta-appName-256": {"meta": {"appName": "x" * 256}},
    "meta-appName-128-wide": {"meta": {"appName": "é" * 128}},
    "meta-appName-127-wide": {"meta": {"appName": "é" * 127 + "x"}},
    "meta-appName-blank": {"meta": {"appName": "   ", "senderName": " "}},
    "meta-appURL-bare-host": {"meta": {"appURL": "localhost"}},
    "meta-appURL-empty": {"meta": {"appURL": ""}},
    "meta-appURL-good": {"meta": {"appURL": "https://example.com/base/"}},
    "meta-sender-no-tld": {"meta": {"senderAddress": "a@b"}},
    "meta-sender-empty": {"meta": {"senderAddress": ""}},
    # logs
    "logs-bounds": {"logs": {"maxDays": -1, "maxDataSize": -1, "minLevel": 2**53}},
    "logs-good": {"logs": {"maxDays": 2**53 - 1, "minLevel": -4, "maxDataSize": 100}},
    # smtp
    "smtp-enabled-blank": {"smtp": {"enabled": True, "host": "", "port": 0, "authMethod": "x", "localName": "a b"}},
    "smtp-disabled-bad": {"smtp": {"enabled": False, "host": "a b", "port": -1}},
    "smtp-auth-lowercase": {"smtp": {"authMethod": "login"}},
    "smtp-host-dash": {"smtp": {"host": "-bad.com"}},
    "smtp-host-bracketed-ip": {"smtp": {"host": "[::1]"}},
    "smtp-host-ipv6": {"smtp": {"host": "::1", "localName": "my_host."}},
    "smtp-enabled-good": {"smtp": {"enabled": True, "host": "1.2.3.4", "port": 25, "authMethod": "LOGIN"}},
    "smtp-port-int64": {"smtp": {"port": 2**63 - 1}},
    "smtp-port-past-int64": {"smtp": {"port": 2**63}},
    # s3 and backups.s3
    "s3-endpoint-bad": {"s3": {"endpoint": "not a url"}},
    "backups-s3-enabled-blank": {"backups": {"s3": {"enabled": True}}},
    "backups-s3-endpoint-bad": {"backups": {"s3": {"endpoint": "http://"}}},
    "backups-s3-enabled-good": {"backups": {"s3": {"enabled": True, "endpoint": "https://s3.example.com",
                                                   "bucket": "b", "region": "r", "accessKey": "k", "secret": "s"}}},
    # backups.cron and cronMaxKeep
    "cron-garbage": {"backups": {"cron": "bad", "cronMaxKeep": 0}},
    "cron-keep-zero": {"backups": {"cron": "* * * * *", "cronMaxKeep": 0}},
    "cron-keep-negative": {"backups": {"cron": "", "cronMaxKeep": -1}},
    "cron-minute-61": cron("61 * * * *"),
    "cron-letter": cron("a * * * *"),
    "cron-step-on-value": cron("5/2 * * * *"),
    "cron-step-zero": cron("*/0 * * * *"),
    "cron-step-too-big": cron("*/60 * * * *"),
    "cron-step-twice": cron("1/2/3 * * * *"),
    "cron-range-three-parts": cron("1-2-3 * * * *"),
    "cron-range-reversed": cron("5-1 * * * *"),
    "cron-range-low": cron("* * 0-5 * *"),
    "cron-range-high": cron("* 5-24 * * *"),
    "cron-day-zero": cron("* * 0 * *"),
    "cron-month-13": cron("* * * 13 *"),
    "cron-weekday-7": cron("* * * * 7"),
    "cron-double-space": cron("*  * * * *"),
    "cron-leading-space": cron(" * * * *"),
    "cron-negative": cron("-5 * * * *"),
    "cron-plus-sign": cron("+5 * * * *"),
    "cron-out-of-range": cron("99999999999999999999 * * * *"),
    "cron-non-ascii": cron("é * * * *"),
    "cron-tab": cron("\t * * * *"),
    "cron-names": cron("* * * JAN MON"),
    "cron-macro-unknown": cron("@every 5m"),
    "cron-macro-case": cron("@DAILY"),
    "cron-macro-good": cron("@weekly"),
    "cron-lists-good": cron("*/5 1,2,3 1-31/2 * 1-5"),
    # batch
    "batch-enabled-blank": {"batch": {"enabled": True, "maxRequests": 0, "timeout": 0, "maxBodySize": -1}},
    "batch-disabled-negative": {"batch": {"enabled": False, "maxRequests": -1, "timeout": -1}},
    # rateLimits
    "rate-enabled-no-rules": {"rateLimits": {"enabled": True, "rules": []}},
    "rate-rules-blank": {"rateLimits": {"rules": [{"label": "", "audience": "x"},
                                                  {"label": "bad label!", "duration": -1, "maxRequests": -1}],
                                        "excludedIPs": ["", "x", "10.0.0.0/8"]}},
    "rate-duplicate": rules({"label": "/api/"}, {"label": "/api/"}, {"label": "/api/"}),
    "rate-audience-conflict": rules({"label": "a"}, {"label": "b", "audience": "@auth"}, {"label": "a", "audience": "@guest"}),
    "rate-audiences-apart": rules({"label": "a", "audience": "@auth"}, {"label": "a", "audience": "@guest"}),
    "rate-labels-good": rules({"label": "POST /api/collections/"}, {"label": "users:create"}, {"label": "*:auth"},
                              {"label": "test_a"}, {"label": "/"}, enabled=True),
    "rate-label-two-spaces": rules({"label": "GET  /x"}),
    "rate-label-colon-only": rules({"label": "users:"}),
    "rate-label-star-only": rules({"label": "*:"}),
    "rate-label-non-ascii": rules({"label": "/api/é"}),
    "rate-label-newline": rules({"label": "x\n"}),
    "rate-label-star-path": rules({"label": "* /api"}),
    # superuserIPs
    "ips-mixed": {"superuserIPs": ["", "1.2.3.4", "x", "10.0.0.0/8", "::1", "1.2.3.4/33"]},
    "ips-good": {"superuserIPs": ["127.0.0.0/8", "fe80::1%eth0", "::/0", "1.2.3.4/32", "::ffff:1.2.3.4", "1.2.3.4/8"]},
    "ips-odd": {"superuserIPs": ["1.2.3.4/08", "1.2.3.4/255.0.0.0", "01.2.3.4", "fe80::1%", "1.2.3.4%x",
                                 "fe80::1%eth0/64", "1.2.3.4/", "1.2.3.4/+8", "٣.2.3.4", "::1%é", "%x", "::1/64%x",
                                 "::ffff:1.2.3.4/100", "127.0.0.1"]},
    # trustedProxy has no checks
    "proxy-anything": {"trustedProxy": {"headers": ["", "bad header"], "useLeftmostIP": True}},
    # several sections at once
    "many-sections": {"meta": {"senderName": ""}, "logs": {"maxDays": -5}, "batch": {"timeout": -1},
                      "superuserIPs": ["nope"], "smtp": {"localName": "-x"}},
}


def pocketbase_part(settings: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in settings.items() if key in POCKETBASE_DEFAULTS}


@pytest.mark.slow
def test_same_answers_as_pocketbase(programs: list[Any]) -> None:
    mismatches = []
    saved = 0
    for name, body in CASES.items():
        answers = [program.call("PATCH", "/api/settings", body) for program in programs]
        (real_status, real), (our_status, ours) = answers
        if real_status == 200:
            saved += 1
            same = our_status == 200 and pocketbase_part(ours) == pocketbase_part(real)
            for program in programs:
                assert program.call("PATCH", "/api/settings", RESET)[0] == 200
        else:
            same = (our_status, ours) == (real_status, real)
        if not same:
            mismatches.append((name, answers))
    assert mismatches == [], "\n".join(map(repr, mismatches))
    assert 10 < saved < len(CASES) - 40  # the table holds both kinds


def test_errors_nest_as_pocketbase_nests_them() -> None:
    document = {**POCKETBASE_DEFAULTS, "rateLimits": {**POCKETBASE_DEFAULTS["rateLimits"], "rules": [
        {"label": "ok", "audience": "", "duration": 1, "maxRequests": 1},
        {"label": "", "audience": "", "duration": 1, "maxRequests": 1}]}, "superuserIPs": ["1.2.3.4", "x"]}
    errors = settings_errors(document)
    assert {key: list(value) for key, value in errors.items()} == {"rateLimits": ["rules"], "superuserIPs": ["1"]}
    assert errors["rateLimits"]["rules"]["1"]["label"].code == "validation_required"
    assert settings_errors(POCKETBASE_DEFAULTS) == {}


@pytest.mark.parametrize(("value", "ok"), [
    ("127.0.0.1", True), ("10.0.0.0/8", True), ("::1", True), ("2001:db8::/32", True), ("fe80::1%en0", True),
    ("0.0.0.0/0", True), ("1.2.3.4/33", False), ("::/129", False), ("1.2.3.4/008", False), ("x", False),
    ("1.2.3", False), ("1.2.3.4.5", False), ("fe80::1%en0/10", True), ("1.2.3.4/-1", False), ("%x", False),
])
def test_ip_or_subnet(value: str, ok: bool) -> None:
    assert is_ip_or_subnet(value) is ok


def naive_first_conflict(keys: list[str]) -> int | None:
    """PocketBase's own loop: each key against every earlier one."""
    for index, key in enumerate(keys):
        if any(key.startswith(other) or other.startswith(key) for other in keys[:index]):
            return index
    return None


def test_first_prefix_conflict_is_pocketbases_loop() -> None:
    rng = random.Random(7)
    for _ in range(3000):
        keys = ["".join(rng.choice("ab@") for _ in range(rng.randint(0, 4))) for _ in range(rng.randint(0, 8))]
        assert first_prefix_conflict(keys) == naive_first_conflict(keys), keys


def test_many_rules_are_checked_quickly() -> None:
    rules = [{"label": f"/api/r{n}x", "audience": "", "duration": 1, "maxRequests": 1} for n in range(200_000)]
    rules.append({"label": "/api/r7x", "audience": "@guest", "duration": 1, "maxRequests": 1})
    started = time.perf_counter()
    errors = settings_errors({**POCKETBASE_DEFAULTS, "rateLimits": {"enabled": True, "rules": rules, "excludedIPs": []}})
    assert time.perf_counter() - started < 5
    assert list(errors["rateLimits"]["rules"]) == ["200000"]
