"""PocketBase's login alerts: each record's recent login origins (IP + User-Agent) are kept in
``_authOrigins``, and a login from a new one mails ``authAlert.emailTemplate``."""

from __future__ import annotations

import hashlib
import html
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from pbk_sdk import App
from pbk_sdk.client_ip import real_ip
from pbk_sdk.errors import ApiError
from pbk_sdk.interfaces import CollectionInfo

from .mail import send_template
from .services import store

ORIGINS = "_authOrigins"
MAX_ORIGINS = 5


async def auth_alert(
    app: App, req: Any, collection: CollectionInfo, record: Mapping[str, Any]
) -> None:
    """Remember the login origin; mail an alert for a new one (not for the record's first)."""
    ip, agent = real_ip(app, req), req.get_header("User-Agent") or ""
    fingerprint = hashlib.md5((ip + agent).encode()).hexdigest()
    origins = store(app).collection(ORIGINS)
    if origins is None:
        return
    known = [
        (row["id"], row["fingerprint"])
        for row in await store(app).find_all(
            origins, {"collectionRef": collection.id, "recordRef": record["id"]}, sort="-updated"
        )
    ]
    match = next((oid for oid, fp in known if fp == fingerprint), None)
    if match is not None:
        await store(app).update(origins, match, {"fingerprint": fingerprint})  # bumps `updated`
        return
    try:
        await store(app).create(
            origins,
            {"collectionRef": collection.id, "recordRef": record["id"], "fingerprint": fingerprint},
        )
    except ApiError as error:
        if not _taken(error):
            raise
        return  # a login racing this one from the same origin recorded it (and alerts, if due)
    for old_id, _ in known[MAX_ORIGINS - 1 :]:
        await store(app).delete(origins, old_id)
    alert = collection.options.get("authAlert") or {}
    if known and alert.get("enabled") and record.get("email"):
        info = html.escape(f"{_now_text()} - {ip} {agent}")  # the User-Agent is the client's text
        await send_template(
            app,
            collection,
            record,
            alert.get("emailTemplate"),
            "login-alert",
            str(record["email"]),
            {"ALERT_INFO": info},
        )


def _taken(error: ApiError) -> bool:
    """Whether a create failed only on the origins' unique index."""
    problems = error.data.values()
    return bool(problems) and all(isinstance(p, dict) and p.get("code") == "validation_not_unique" for p in problems)


def _now_text() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] + "Z"
