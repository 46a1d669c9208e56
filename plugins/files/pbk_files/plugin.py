"""The files plugin: storage backends, upload handling, file serving, thumbs, file tokens.

File tokens come from the auth plugin's ``token_service``; the ``s3`` settings section is
declared and checked here (``settings_update_request``, see ``s3settings``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pbk_sdk import PluginInfo, Route, hookimpl, routes
from pbk_sdk.errors import StartupError
from pbk_sdk.events import (
    FILE_DOWNLOAD_REQUEST,
    FILE_TOKEN_REQUEST,
    SETTINGS_UPDATE_REQUEST,
    Subscription,
)
from pbk_sdk.interfaces import FILE_STORAGES, App, FileStorage
from pbk_sdk.request_events import evented
from pbk_sdk.state import StateKey

from .backend import FILES_CONFIG, FilesConfig, storage_name
from .nodes import local_storage_refusal
from .s3settings import S3SettingsCheck
from .serve import FileDownload, FileToken, TestS3
from .storage import LocalStorage, S3Storage
from .storages import SectionStorages
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

#: The event handlers this plugin added at start-up, removed again at shutdown.
SUBSCRIPTIONS: StateKey[list[Subscription]] = StateKey("files.subscriptions")


@hookimpl
def pbk_declare_settings(app: App) -> dict[str, Any]:
    return {"s3": dict(S3_DEFAULTS)}


@hookimpl
def pbk_register_file_storages(app: App) -> dict[str, Callable[[App], FileStorage]]:
    return {"local": LocalStorage, "s3": S3Storage}


@hookimpl
def pbk_register_routes(app: App) -> list[Route]:
    return [
        Route(routes.FILE, evented(app, FileDownload(app), {"on_get": FILE_DOWNLOAD_REQUEST})),
        Route("/api/files/token", evented(app, FileToken(app), {"on_post": FILE_TOKEN_REQUEST})),
        Route(routes.SETTINGS + "/test/s3", TestS3(app)),
    ]


@hookimpl
def pbk_startup(app: App) -> None:
    app.state[FILES_CONFIG] = FilesConfig.from_environment()
    refusal = local_storage_refusal(app) if storage_name(app) == "local" else None
    if refusal is not None:
        raise StartupError(refusal)
    app.state[FILE_STORAGES] = SectionStorages(app)
    app.state[SUBSCRIPTIONS] = [
        *Uploads(app).subscribe(),
        app.events.on(SETTINGS_UPDATE_REQUEST, S3SettingsCheck(app).on_settings_update),
    ]


@hookimpl
def pbk_shutdown(app: App) -> None:
    for subscription in app.state.pop(SUBSCRIPTIONS) or ():
        subscription.remove()
