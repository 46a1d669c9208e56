"""The files plugin: storage backends, upload handling, file serving, thumbs, file tokens.

File tokens come from the auth plugin's ``token_service``; the ``s3`` settings section is
declared and checked here (``settings_update_request``, see ``s3settings``).
"""

from __future__ import annotations

from typing import Any

from pbk_sdk import PluginInfo, Route, hookimpl, routes
from pbk_sdk.events import SETTINGS_UPDATE_REQUEST

from .s3settings import S3SettingsCheck
from .serve import FileDownload, FileToken, TestS3
from .storage import LocalStorage, S3Storage
from .uploads import Uploads

PLUGIN = PluginInfo(
    name="files",
    requires=("records", "auth"),
    description="File fields: uploads, serving, thumbnails and protected files on local disk or S3.",
)

#: PocketBase's ``s3`` settings section (all empty until configured).
S3_DEFAULTS = {
    "enabled": False,
    "bucket": "",
    "region": "",
    "endpoint": "",
    "accessKey": "",
    "secret": "",
    "forcePathStyle": False,
}

_subscriptions: dict[int, list[Any]] = {}


@hookimpl
def pbk_declare_settings(app: Any) -> dict[str, Any]:
    return {"s3": dict(S3_DEFAULTS)}


@hookimpl
def pbk_register_file_storages(app: Any) -> dict[str, Any]:
    return {"local": LocalStorage, "s3": S3Storage}


@hookimpl
def pbk_register_routes(app: Any) -> list[Route]:
    return [
        Route(routes.FILE, FileDownload(app)),
        Route("/api/files/token", FileToken(app)),
        Route(routes.SETTINGS + "/test/s3", TestS3(app)),
    ]


@hookimpl
def pbk_startup(app: Any) -> None:
    _subscriptions[id(app)] = [
        *Uploads(app).subscribe(),
        app.events.on(SETTINGS_UPDATE_REQUEST, S3SettingsCheck(app).on_settings_update),
    ]


@hookimpl
def pbk_shutdown(app: Any) -> None:
    for subscription in _subscriptions.pop(id(app), []):
        subscription.remove()
