"""``PATCH /api/settings`` with form bodies, and ``settings_list_request``."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import pytest
from pbk_sdk.events import SETTINGS_LIST_REQUEST, SettingsListEvent
from pbk_settings.form_body import FORM_FIELDS
from pbk_settings.shape import POCKETBASE_DEFAULTS

PAYLOAD = "@jsonPayload"
#: As many fields as PocketBase reads in an urlencoded body (Go's ``url.ParseQuery`` limit); a
#: multipart body may hold 1000 parts (``mime/multipart``'s).
UNKNOWN = [(f"k{i}", "") for i in range(10_000)]
#: ``(content, fields, query)``: the same form sent to both servers, one after another (the
#: settings carry over), each answer compared.
CASES: dict[str, tuple[str, list[tuple[str, str]], str]] = {
    "dotted": ("urlencoded", [("meta.appName", "B"), ("batch.maxRequests", "7"), ("logs.logIP", "false")], ""),
    "multipart": ("multipart", [("meta.appName", "C"), ("batch.maxRequests", "8")], ""),
    "payload": ("multipart", [(PAYLOAD, '{"meta":{"appName":"E"}}'), ("batch.maxRequests", "9")], ""),
    "list": ("urlencoded", [("trustedProxy.headers", "X-A"), ("trustedProxy.headers", "X-B")], ""),
    "nested": ("urlencoded", [("s3.bucket", "both")], ""),
    "unread": ("urlencoded", [("backups.s3.bucket", "nope"), ("Meta.AppName", "nope")], ""),
    "exact": ("multipart", [(PAYLOAD, '{"META":{"APPNAME":"nope"}}')], ""),
    "query": ("urlencoded", [("batch.maxRequests", "0x10")], "meta.appName=Q"),
    "go-ints": ("urlencoded", [("smtp.port", "1_000"), ("logs.logIP", "T"), ("logs.maxDataSize", "010")], ""),
    "empty": ("urlencoded", [("smtp.port", ""), ("logs.logIP", "")], ""),
    "bad-int": ("urlencoded", [("batch.maxRequests", "x")], ""),
    "float": ("urlencoded", [("smtp.port", "1.5")], ""),
    "huge": ("urlencoded", [("batch.maxRequests", "99999999999999999999")], ""),
    "bad-bool": ("multipart", [("logs.logIP", "yes")], ""),
    "bad-payload": ("multipart", [(PAYLOAD, "{bad")], ""),
    "payload-type": ("multipart", [(PAYLOAD, '{"batch":{"maxRequests":"x"}}')], ""),
    "invalid": ("urlencoded", [("meta.appName", ""), ("smtp.enabled", "1")], ""),
    "text-payload": ("urlencoded", [(PAYLOAD, '{"meta":{"appName":"U"}}')], ""),
    "rules": ("urlencoded", [("rateLimits.rules", "x"), ("rateLimits.enabled", "true")], ""),
    "section": ("urlencoded", [("meta", "x"), ("meta.senderName", "Sec")], ""),
    "section-mp": ("multipart", [("smtp", "x"), ("batch", "1")], ""),
    "two-payloads": ("multipart", [(PAYLOAD, '{"meta":{"appName":"P1"}}'), (PAYLOAD, '{"meta":{"senderName":"S2"}}')], ""),
    "payload-list": ("multipart", [(PAYLOAD, "[1]")], ""),
    "most-fields": ("urlencoded", [*UNKNOWN[:-1], ("meta.appName", "Most")], ""),
    "too-many": ("urlencoded", [*UNKNOWN, ("meta.appName", "Over")], ""),
    "most-parts": ("multipart", [*UNKNOWN[:999], ("meta.appName", "Parts")], ""),
    "too-many-parts": ("multipart", [*UNKNOWN[:1000], ("meta.appName", "Over")], ""),
}


def send(program: Any, content: str, fields: list[tuple[str, str]], query: str) -> tuple[int, Any]:
    url = "/api/settings" + (f"?{query}" if query else "")
    if content == "multipart":
        answer = program.client.patch(url, files=[(name, (None, value)) for name, value in fields])
    else:
        form = {"Content-Type": "application/x-www-form-urlencoded"}
        answer = program.client.patch(url, content=urlencode(fields), headers=form)
    body = answer.json()
    if answer.status_code == 200:
        body = {key: value for key, value in body.items() if key in POCKETBASE_DEFAULTS}
    return answer.status_code, body


@pytest.mark.slow
def test_form_bodies_load_as_in_pocketbase(programs: list[Any]) -> None:
    mismatches, statuses = [], []
    for name, (content, fields, query) in CASES.items():
        real, ours = (send(program, content, fields, query) for program in programs)
        statuses.append(real[0])
        if real != ours:
            mismatches.append((name, real, ours))
    assert mismatches == [], "\n".join(map(repr, mismatches))
    assert statuses.count(200) == 17  # the table holds both kinds


def test_form_field_names_are_pocketbases_tags() -> None:
    assert FORM_FIELDS["s3.bucket"] == [("backups", "s3", "bucket"), ("s3", "bucket")]
    assert FORM_FIELDS["superuserIPs"] == [("superuserIPs",)]
    assert "rateLimits.rules" not in FORM_FIELDS
    assert "backups.s3.bucket" not in FORM_FIELDS


async def test_settings_list_request_may_change_what_is_answered(api: Any, pbk_app: Any, headers: Any) -> None:
    seen: list[SettingsListEvent] = []

    async def rename(e: SettingsListEvent) -> None:
        seen.append(e)
        assert e.settings["smtp"]["password"] == "secret"  # the whole document, secrets included
        e.settings["meta"]["appName"] = "Shown"
        await e.next()

    await pbk_app.settings.update({"smtp": {"password": "secret"}})
    pbk_app.events.on(SETTINGS_LIST_REQUEST, rename)
    answer = await api.get("/api/settings", headers=headers["superuser"])
    assert answer.status_code == 200
    assert answer.json["meta"]["appName"] == "Shown"
    assert "password" not in answer.json["smtp"]
    assert pbk_app.settings.get("meta.appName") == "Acme"  # answered, not saved
    assert len(seen) == 1
    refused = await api.get("/api/settings", headers=headers["user"])
    assert refused.status_code == 403
    assert len(seen) == 1  # the superuser check comes first
