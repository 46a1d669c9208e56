"""A row per request with PocketBase's data keys, and the ``logs`` settings honoured."""

from __future__ import annotations

import json
import logging
import re

import pytest
from pbk_logs.app_logs import pocketbase_level
from pbk_logs.rows import error_details, request_message
from pbk_logs.state import LOGS

REQUEST_KEYS = {"type", "url", "method", "status", "execTime", "auth", "userIP", "remoteIP", "referer", "userAgent"}
CREATED = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}Z$")


async def test_a_success_and_a_failure_leave_pocketbase_rows(pbk_client, stored_logs):
    await pbk_client.get("/api/collections/users/records?perPage=1", headers={"Referer": "http://x/", "User-Agent": "ua/1"})
    await pbk_client.get("/api/nope")
    await pbk_client.post("/api/collections/users/records", json={"email": "bad"})
    (ok_level, ok_message, ok_data, created), (nf_level, nf_message, nf_data, _), (bad_level, _, bad_data, _) = await stored_logs()
    ok, not_found, bad = json.loads(ok_data), json.loads(nf_data), json.loads(bad_data)
    assert (ok_level, ok_message) == (0, "GET /api/collections/users/records?perPage=1")
    assert set(ok) == REQUEST_KEYS
    assert ok["type"] == "request" and ok["status"] == 200 and ok["auth"] == ""
    assert ok["referer"] == "http://x/" and ok["userAgent"] == "ua/1"
    assert isinstance(ok["execTime"], float) and ok["execTime"] > 0
    assert CREATED.match(created)
    assert (nf_level, nf_message) == (8, "GET /api/nope")
    assert set(not_found) == REQUEST_KEYS | {"error", "details"}
    assert not_found["error"] == "File not found." and not_found["details"] is None
    assert bad_level == 8 and bad["status"] == 400 and bad["error"] == "Failed to create record."
    assert bad["details"]["password"] == "cannot be blank"
    assert list(ok) == sorted(ok)  # stored as Go writes a map


async def test_superuser_requests_name_the_collection_and_the_logs_api_skips_its_successes(
    pbk_client, pbk_superuser, stored_logs
):
    await pbk_client.get("/api/collections", headers=pbk_superuser.headers)
    await pbk_client.get("/api/logs", headers=pbk_superuser.headers)
    await pbk_client.get("/api/logs/stats", headers=pbk_superuser.headers)
    await pbk_client.get("/api/logs/nope", headers=pbk_superuser.headers)
    rows = await stored_logs()
    assert [(level, message) for level, message, *_ in rows] == [(0, "GET /api/collections"), (8, "GET /api/logs/nope")]
    assert json.loads(rows[0][2])["auth"] == "_superusers"
    assert "authId" not in json.loads(rows[0][2])  # logAuthId is off by default


async def test_log_ip_and_log_auth_id(pbk_app, pbk_client, pbk_superuser, stored_logs):
    await pbk_app.settings.update({"logs": {"logIP": False, "logAuthId": True}})
    await pbk_client.get("/api/collections", headers=pbk_superuser.headers)
    [(_, _, data, _)] = await stored_logs()
    data = json.loads(data)
    assert data["authId"] == pbk_superuser.id
    assert "userIP" not in data and "remoteIP" not in data


async def test_the_user_ip_comes_from_the_trusted_proxy_header(pbk_app, pbk_client, stored_logs):
    await pbk_app.settings.update({"trustedProxy": {"headers": ["X-Real-IP"]}})
    await pbk_client.get("/api/nope", headers={"X-Real-IP": "203.0.113.9"}, remote_addr="10.0.0.2")
    await pbk_app.settings.update({"trustedProxy": {"headers": []}})
    await pbk_client.get("/api/nope", headers={"X-Real-IP": "203.0.113.9"}, remote_addr="10.0.0.2")
    proxied, direct = [json.loads(data) for _, _, data, _ in await stored_logs()]
    assert (proxied["remoteIP"], proxied["userIP"]) == ("10.0.0.2", "203.0.113.9")
    assert (direct["remoteIP"], direct["userIP"]) == ("10.0.0.2", "10.0.0.2")  # a header nobody trusts


async def test_max_days_zero_turns_logging_off(pbk_app, pbk_client, stored_logs):
    await pbk_app.settings.update({"logs": {"maxDays": 0}})
    await pbk_client.get("/api/nope")
    logging.getLogger("pbk_logs.test").error("not kept either")
    assert await stored_logs() == []


async def test_min_level_keeps_only_errors_and_drops_stored_quieter_rows(pbk_app, pbk_client, stored_logs):
    await pbk_client.get("/api/health")
    assert len(await stored_logs()) == 1
    await pbk_app.settings.update({"logs": {"minLevel": 5}})
    assert await stored_logs() == []  # as PocketBase: a settings change deletes what it no longer wants
    await pbk_client.get("/api/health")
    await pbk_client.get("/api/nope")
    assert [message for _, message, *_ in await stored_logs()] == ["GET /api/nope"]


async def test_app_logs_of_pbk_loggers_with_pocketbase_levels(pbk_app, stored_logs):
    plugin_log = logging.getLogger("pbk_logs.test")
    plugin_log.setLevel(logging.DEBUG)
    try:
        plugin_log.warning("disk %s", "low", extra={"data": {"free": 12}})
        plugin_log.debug("not at minLevel 0")
        try:
            raise ValueError("boom")
        except ValueError:
            plugin_log.exception("failed")
        logging.getLogger("httpx.elsewhere").error("not a pbk logger")
        await pbk_app.settings.update({"logs": {"minLevel": -4}})
        plugin_log.debug("now kept")
    finally:
        plugin_log.setLevel(logging.NOTSET)
    rows = [(level, message, json.loads(data)) for level, message, data, _ in await stored_logs()]
    assert rows == [
        (4, "disk low", {"logger": "pbk_logs.test", "free": 12}),
        (8, "failed", {"logger": "pbk_logs.test", "error": "boom"}),
        (-4, "now kept", {"logger": "pbk_logs.test"}),
    ]


async def test_an_entry_json_cannot_hold_keeps_its_batch_and_a_sane_version_of_itself(stored_logs):
    plugin_log = logging.getLogger("pbk_logs.test")
    too_deep: list = []
    for _ in range(300):  # orjson stops at 255 levels
        too_deep = [too_deep]
    plugin_log.warning("before")
    plugin_log.warning("stray \udc80 byte", extra={"data": {"deep": too_deep, "name": "x\ud800", "free": 12}})
    plugin_log.warning("after")
    rows = [(message, json.loads(data)) for _, message, data, _ in await stored_logs()]
    assert rows == [
        ("before", {"logger": "pbk_logs.test"}),
        ("stray \ufffd byte", {"logger": "pbk_logs.test", "deep": repr(too_deep), "name": "x\ufffd", "free": 12}),
        ("after", {"logger": "pbk_logs.test"}),
        ("log data values ['deep', 'name'] are not JSON: stored as text, or left out",
         {"logger": "pbk_logs.rows"}),  # said once, from the write, and written in the same flush
    ]


async def test_a_failed_write_is_reported_not_retried_forever(pbk_app, caplog):
    logs = pbk_app.state[LOGS]
    await pbk_app.aux_db.write(lambda conn: conn.execute("DROP TABLE _logs"))
    logging.getLogger("pbk_logs.test").error("lost with its batch")
    with caplog.at_level(logging.WARNING, logger="pbk_logs.buffer"):
        await logs.buffer.flush()
    assert "could not write 1 log entries" in caplog.text
    assert len(logs.buffer) == 0  # the warning itself is not queued for the broken table


@pytest.mark.parametrize(
    ("levelno", "level"),
    [(logging.DEBUG, -4), (logging.INFO, 0), (logging.WARNING, 4), (logging.ERROR, 8), (logging.CRITICAL, 12)],
)
def test_python_levels_map_to_slog_levels(levelno, level):
    assert pocketbase_level(levelno) == level


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("/api/a%20b?x=%C3%A9", "GET /api/a b?x=é"),
        ("/api/a%20b?x=%zz", "GET /api/a%20b?x=%zz"),  # Go's PathUnescape fails: kept raw
        ("/api/a+b", "GET /api/a+b"),
    ],
)
def test_messages_unescape_as_go_does(url, message):
    assert request_message("GET", url) == message


def test_error_details_are_the_validation_messages():
    data = {"email": {"code": "validation_required", "message": "Cannot be blank."}}
    assert error_details(data) == {"email": "cannot be blank"}
    assert error_details({}) is None
