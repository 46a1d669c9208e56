"""GET and PATCH /api/settings against what PocketBase 0.40.6 answers."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from pbk_sdk.errors import FieldError
from pbk_sdk.events import SETTINGS_UPDATE_REQUEST

#: GET /api/settings of a new PocketBase 0.40.6 app.
POCKETBASE = {
    "superuserIPs": [],
    "smtp": {"enabled": False, "port": 587, "host": "smtp.example.com", "username": "", "authMethod": "",
             "tls": False, "localName": ""},
    "backups": {"cron": "", "cronMaxKeep": 3, "s3": {"enabled": False, "bucket": "", "region": "", "endpoint": "",
                                                      "accessKey": "", "forcePathStyle": False}},
    "s3": {"enabled": False, "bucket": "", "region": "", "endpoint": "", "accessKey": "", "forcePathStyle": False},
    "meta": {"accentColor": "#1055c9", "appName": "Acme", "appURL": "http://localhost:8090", "senderName": "Support",
             "senderAddress": "support@example.com", "hideControls": False},
    "rateLimits": {"rules": [{"label": "*:auth", "audience": "", "duration": 3, "maxRequests": 2},
                             {"label": "*:create", "audience": "", "duration": 5, "maxRequests": 20},
                             {"label": "/api/batch", "audience": "", "duration": 1, "maxRequests": 3},
                             {"label": "/api/", "audience": "", "duration": 10, "maxRequests": 300}],
                   "excludedIPs": [], "enabled": False},
    "trustedProxy": {"headers": [], "useLeftmostIP": False},
    "batch": {"enabled": False, "maxRequests": 50, "timeout": 3, "maxBodySize": 0},
    "logs": {"maxDataSize": 0, "maxDays": 5, "minLevel": 0, "logIP": True, "logAuthId": False},
}

LOAD_ERROR = "An error occurred while loading the submitted data."
SAVE_ERROR = "An error occurred while saving the new settings."


def pocketbase_part(settings: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in settings.items() if k in POCKETBASE}


@pytest.mark.parametrize("method", ["GET", "PATCH"])
async def test_superusers_only(api: Any, headers: Any, method: str) -> None:
    guest = await api.simulate_request(method, "/api/settings", json={})
    assert (guest.status_code, guest.json["message"]) == (401, "The request requires valid record authorization token.")
    user = await api.simulate_request(method, "/api/settings", json={}, headers=headers["user"])
    assert user.status_code == 403
    assert user.json == {"data": {}, "message": "The authorized record is not allowed to perform this action.",
                         "status": 403}


async def test_get_is_pocketbases_document(api: Any, headers: Any) -> None:
    result = await api.get("/api/settings", headers=headers["superuser"])
    assert result.status_code == 200
    assert pocketbase_part(result.json) == POCKETBASE
    assert list(result.json)[: len(POCKETBASE)] == list(POCKETBASE)  # PocketBase's order first
    assert "authBackend" in result.json  # plugins' own sections are part of the document


async def test_secrets_are_write_only(api: Any, pbk_app: Any, headers: Any) -> None:
    patch = {"smtp": {"password": "pw"}, "s3": {"secret": "sec"}, "backups": {"s3": {"secret": "bsec"}}}
    result = await api.patch("/api/settings", json=patch, headers=headers["superuser"])
    assert result.status_code == 200
    assert pocketbase_part(result.json) == POCKETBASE
    assert pocketbase_part((await api.get("/api/settings", headers=headers["superuser"])).json) == POCKETBASE
    assert pbk_app.settings.get("smtp.password") == "pw"
    assert pbk_app.settings.get("s3.secret") == "sec"
    assert pbk_app.settings.get("backups.s3.secret") == "bsec"
    # leaving a secret out keeps it; sending "" clears it (as PocketBase)
    await api.patch("/api/settings", json={"smtp": {"host": "mail.example.com"}}, headers=headers["superuser"])
    assert pbk_app.settings.get("smtp.password") == "pw"
    await api.patch("/api/settings", json={"smtp": {"password": ""}}, headers=headers["superuser"])
    assert pbk_app.settings.get("smtp.password") == ""


async def test_patch_is_a_deep_partial_update(api: Any, pbk_app: Any, headers: Any) -> None:
    reloads = []

    async def on_reload(e: Any) -> None:
        reloads.append(e.changed)
        await e.next()

    pbk_app.events.on("settings_reload", on_reload)
    result = await api.patch("/api/settings", json={"meta": {"appName": "Mine"}, "batch": {"enabled": True}},
                             headers=headers["superuser"])
    expected = copy.deepcopy(POCKETBASE)
    expected["meta"]["appName"] = "Mine"
    expected["batch"]["enabled"] = True
    assert pocketbase_part(result.json) == expected
    assert pocketbase_part((await api.get("/api/settings", headers=headers["superuser"])).json) == expected
    assert pbk_app.settings.get("meta.appName") == "Mine"
    assert pbk_app.settings.get("meta.senderName") == "Support"
    assert reloads and {"meta", "batch"} <= reloads[-1]


async def test_body_is_loaded_as_pocketbase_loads_it(api: Any, pbk_app: Any, headers: Any) -> None:
    su = headers["superuser"]
    # keys match case-insensitively; unknown keys are dropped
    result = await api.patch("/api/settings", json={"META": {"APPNAME": "Upper"}, "foo": 1}, headers=su)
    assert result.json["meta"]["appName"] == "Upper" and "foo" not in result.json
    assert pbk_app.settings.get("foo") is None
    # null leaves an object as it is and zeroes a value or list
    result = await api.patch("/api/settings", json={"s3": None, "superuserIPs": None}, headers=su)
    assert result.status_code == 200 and result.json["superuserIPs"] == []
    # a list replaces the list, each element starting from zero values
    result = await api.patch("/api/settings", json={"rateLimits": {"rules": [{"label": "x", "duration": 1}]}},
                             headers=su)
    assert result.json["data"]["rateLimits"]["rules"]["0"]["maxRequests"]["code"] == "validation_required"
    result = await api.patch("/api/settings", json={"rateLimits": {"rules": [{"label": "x", "duration": 1,
                                                                             "maxRequests": 2}]}}, headers=su)
    assert result.json["rateLimits"]["rules"] == [{"label": "x", "audience": "", "duration": 1, "maxRequests": 2}]


@pytest.mark.parametrize("body", [
    {"meta": "x"}, {"meta": {"appName": 5}}, {"batch": {"timeout": 3.5}}, {"batch": {"timeout": True}},
    {"superuserIPs": [1]}, {"rateLimits": {"rules": [{"duration": "1"}]}}, {"smtp": {"enabled": "true"}},
])
async def test_type_mismatch_is_a_load_error(api: Any, pbk_app: Any, headers: Any, body: Any) -> None:
    result = await api.patch("/api/settings", json=body, headers=headers["superuser"])
    assert result.json == {"data": {}, "message": LOAD_ERROR, "status": 400}


async def test_malformed_json(api: Any, headers: Any) -> None:
    result = await api.patch("/api/settings", body=b'{"meta":', headers={
        **headers["superuser"], "Content-Type": "application/json"})
    assert result.json == {"data": {}, "message": LOAD_ERROR, "status": 400}


async def test_handlers_validate_their_sections(api: Any, pbk_app: Any, headers: Any) -> None:
    seen = []

    async def check_meta(e: Any) -> None:
        seen.append((e.patch, e.settings["meta"]["appName"]))
        if e.settings["meta"]["appName"] == "bad":
            e.errors.setdefault("meta", {})["appName"] = FieldError("validation_bad_name", "Bad name.")
        await e.next()

    pbk_app.events.on(SETTINGS_UPDATE_REQUEST, check_meta)
    result = await api.patch("/api/settings", json={"meta": {"appName": "bad"}, "batch": {"enabled": True}},
                             headers=headers["superuser"])
    assert result.status_code == 400
    assert result.json == {"status": 400, "message": SAVE_ERROR, "data": {
        "meta": {"appName": {"code": "validation_bad_name", "message": "Bad name."}}}}
    assert seen == [({"meta": {"appName": "bad"}, "batch": {"enabled": True}}, "bad")]
    assert pbk_app.settings.get("meta.appName") == "Acme" and pbk_app.settings.get("batch.enabled") is False
    ok = await api.patch("/api/settings", json={"meta": {"appName": "good"}}, headers=headers["superuser"])
    assert ok.status_code == 200 and pbk_app.settings.get("meta.appName") == "good"


async def test_handlers_may_change_the_new_settings(api: Any, pbk_app: Any, headers: Any) -> None:
    async def trim(e: Any) -> None:
        e.settings["meta"]["appName"] = e.settings["meta"]["appName"].strip()
        await e.next()

    pbk_app.events.on(SETTINGS_UPDATE_REQUEST, trim)
    result = await api.patch("/api/settings", json={"meta": {"appName": "  Spaced  "}}, headers=headers["superuser"])
    assert result.json["meta"]["appName"] == "Spaced"
    assert pbk_app.settings.get("meta.appName") == "Spaced"


async def test_undeclared_sections_are_stored_as_sent(api: Any, pbk_app: Any, headers: Any) -> None:
    patch = {"logs": {"maxDays": 7}, "trustedProxy": {"headers": ["X-Real-IP"]}, "superuserIPs": ["127.0.0.1"]}
    result = await api.patch("/api/settings", json=patch, headers=headers["superuser"])
    assert result.status_code == 200
    assert pbk_app.settings.get("logs") == {**POCKETBASE["logs"], "maxDays": 7}
    assert pbk_app.settings.get("trustedProxy.headers") == ["X-Real-IP"]
    assert pbk_app.settings.get("superuserIPs") == ["127.0.0.1"]


async def test_s3_is_checked_by_the_files_plugin(api: Any, pbk_app: Any, headers: Any) -> None:
    result = await api.patch("/api/settings", json={"s3": {"enabled": True}}, headers=headers["superuser"])
    assert result.status_code == 400
    blank = {"code": "validation_required", "message": "Cannot be blank."}
    assert result.json["data"] == {"s3": {k: blank for k in ("accessKey", "bucket", "endpoint", "region", "secret")}}
    assert pbk_app.settings.get("s3.enabled") is False


async def test_empty_app_name_is_refused(api: Any, pbk_app: Any, headers: Any) -> None:
    """Issue #13: an empty appName was saved, and auth mails then had another subject than
    PocketBase's. PocketBase refuses it, and so does pbk now."""
    result = await api.patch("/api/settings", json={"meta": {"appName": ""}}, headers=headers["superuser"])
    assert result.json == {"status": 400, "message": SAVE_ERROR, "data": {
        "meta": {"appName": {"code": "validation_required", "message": "Cannot be blank."}}}}
    assert pbk_app.settings.get("meta.appName") == "Acme"


async def test_pocketbases_rules_see_what_handlers_changed(api: Any, pbk_app: Any, headers: Any) -> None:
    """The checks run in the default action, after the handlers, as PocketBase's save does."""
    async def set_cron(e: Any) -> None:
        e.settings["backups"]["cron"] = "@hourly"
        await e.next()

    pbk_app.events.on(SETTINGS_UPDATE_REQUEST, set_cron)
    result = await api.patch("/api/settings", json={"backups": {"cronMaxKeep": 0}}, headers=headers["superuser"])
    assert result.json["data"] == {"backups": {"cronMaxKeep": {"code": "validation_required",
                                                               "message": "Cannot be blank."}}}
