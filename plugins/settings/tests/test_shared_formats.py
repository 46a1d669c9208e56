"""A record's ``email`` and ``url`` fields and the settings' ``meta.senderAddress`` and
``meta.appURL`` check one format each (``pbk_sdk.formats``), as PocketBase's all use
govalidator's: tricky values sent to both places, on the real PocketBase 0.40.6 and on pbk, get
the same answers, and each program accepts a value in a record exactly where its settings do."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

pytestmark = pytest.mark.slow

EMAILS = [
    "a@b.co", '"a b"@example.com', '"a@b"@example.com', "a@b.co.", "ü@ñ.de", "a..b@c.co", ".a@b.co",
    "a@b_c.co", "a@b-.co", "a@x.c0", "a@1.2.3.4", "a(c)@b.co", "a@b.co\t", "x@y.z", "a@localhost",
    "user+tag@sub.example.museum", "a@@b.co", "a@b..co", '"a\\"b"@c.co', "a@-b.co", "a b@c.co",
    '"@example.com', '"a"b"@example.com', '"ab"@example.com', '"(é"@example.com', '" a "@example.com',
]
URLS = [
    "example.com", "http://x", "mailto:a@b.co", "http://[::1]:80", "http://example.com.", "x.com:8080",
    "HTTPS://EXAMPLE.COM", "//example.com", "http://1.2.3.256", "http://224.1.1.1", "a:1", "http://x..com",
    "http://x%41.com", "http://a_b.com", "https://ünïcode.de", "javascript:alert(1)", "http://exa mple.com",
    "ftp://x.org", "http://user:pw@x.com/p", "http://x.com:abc", "http://a-b--c.com", "http://x.com/%zz",
]
COLLECTION = {"name": "formats_probe", "type": "base",
              "fields": [{"name": "e", "type": "email"}, {"name": "u", "type": "url"}]}


@pytest.fixture(scope="module")
def probed(programs: list[Any]) -> Iterator[list[Any]]:
    """``programs`` with the ``formats_probe`` collection (an email field ``e``, a url ``u``)."""
    for program in programs:
        status, body = program.call("POST", "/api/collections", COLLECTION)
        assert status == 200, (program.name, body)
    yield programs
    for program in programs:
        assert program.call("DELETE", "/api/collections/formats_probe", None)[0] == 204


def record_answer(program: Any, field: str, value: str) -> tuple[int, Any]:
    """The status and the field's error, or the stored value."""
    status, body = program.call("POST", "/api/collections/formats_probe/records", {field: value})
    return status, body[field] if status == 200 else body["data"].get(field)


def settings_answer(program: Any, field: str, value: str) -> tuple[int, Any]:
    """The status and the field's error; an empty ``appName`` keeps every answer unsaved."""
    status, body = program.call("PATCH", "/api/settings", {"meta": {"appName": "", field: value}})
    assert status == 400, (program.name, body)
    return status, body["data"]["meta"].get(field)


@pytest.mark.parametrize(("record_field", "settings_field", "values"), [
    ("e", "senderAddress", EMAILS),
    ("u", "appURL", URLS),
], ids=["email", "url"])
def test_records_and_settings_check_one_format_as_pocketbase(
    probed: list[Any], record_field: str, settings_field: str, values: list[str]
) -> None:
    mismatches, verdicts = [], set()
    for value in values:
        answers = [(record_answer(program, record_field, value), settings_answer(program, settings_field, value))
                   for program in probed]
        for (record_status, _), (_, settings_error) in answers:
            verdicts.add(record_status == 200)
            if (record_status == 200) != (settings_error is None):
                mismatches.append(("record and settings disagree", value, answers))
        if answers[0] != answers[1]:
            mismatches.append(("pbk is not PocketBase", value, answers))
    assert mismatches == [], "\n".join(map(repr, mismatches))
    assert verdicts == {True, False}  # the values hold both kinds
