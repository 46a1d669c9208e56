"""Checks of the ``s3`` settings section, which this plugin declares (``settings_update_request``).

* PocketBase's own rules (verified on 0.40.6): ``endpoint`` must look like a URL whenever it is
  set (``validation_is_url``); with ``enabled``, ``endpoint``, ``bucket``, ``region``,
  ``accessKey`` and ``secret`` are required (``validation_required``).
* pbk's addition: when the new settings enable S3 and the section changed, the connection is
  tested as ``POST /api/settings/test/s3`` does (write and delete a small object), so a broken
  configuration is refused at save time instead of failing every upload afterwards. The error
  lands on the field S3 blames (``bucket`` for NoSuchBucket, ``accessKey``/``secret`` for
  credentials, else ``endpoint``), code ``validation_s3_connection``.
* Turning S3 off, so that files would be kept in the data dir, while a node serving another
  data dir shares the database is refused on ``enabled`` (``validation_local_storage_shared``,
  see ``nodes``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pbk_sdk.errors import FieldError
from pbk_sdk.events import SettingsUpdateEvent
from pbk_sdk.interfaces import App

from .backend import storage_name
from .nodes import local_storage_refusal
from .storage import S3Error, S3Storage

REQUIRED = ("endpoint", "bucket", "region", "accessKey", "secret")

#: Close to ozzo-validation's ``is.URL`` (govalidator): a scheme is optional, a host is not,
#: and no whitespace ("example.com", "localhost:9000" pass; "http://", "a b" do not).
URL = re.compile(r"^(?:[a-zA-Z][a-zA-Z0-9+.-]*://)?[^\s/?#:@]+(?::\d{1,5})?(?:[/?#]\S*)?$")

#: S3 error codes by the settings field they point at.
FIELD_FOR_CODE = {
    "NoSuchBucket": "bucket",
    "InvalidBucketName": "bucket",
    "InvalidAccessKeyId": "accessKey",
    "AccessDenied": "accessKey",
    "SignatureDoesNotMatch": "secret",
    "AuthorizationHeaderMalformed": "region",
}


def structural_errors(s3: Mapping[str, Any]) -> dict[str, FieldError]:
    errors: dict[str, FieldError] = {}
    endpoint = s3.get("endpoint")
    if isinstance(endpoint, str) and endpoint and not URL.match(endpoint):
        errors["endpoint"] = FieldError("validation_is_url", "Must be a valid URL.")
    if s3.get("enabled"):
        for name in REQUIRED:
            if name not in errors and not s3.get(name):
                errors[name] = FieldError("validation_required", "Cannot be blank.")
    return dict(sorted(errors.items()))


async def connection_errors(app: App, s3: Mapping[str, Any]) -> dict[str, FieldError]:
    try:
        await S3Storage(app, "s3", config=s3, quick=True).check()
    except (S3Error, ValueError) as exc:
        field = FIELD_FOR_CODE.get(getattr(exc, "code", ""), "endpoint")
        return {field: FieldError("validation_s3_connection", f"Failed to connect to the S3 storage: {exc}")}
    return {}


class S3SettingsCheck:
    """The ``settings_update_request`` handler for the ``s3`` section."""

    def __init__(self, app: App) -> None:
        self.app = app

    async def on_settings_update(self, e: SettingsUpdateEvent) -> None:
        s3 = e.settings.get("s3")
        if isinstance(s3, Mapping):
            errors = structural_errors(s3)
            if not errors and s3.get("enabled") and dict(s3) != (self.app.settings.get("s3") or {}):
                errors = await connection_errors(self.app, s3)
            if not errors and self._turns_local(bool(s3.get("enabled"))):
                refusal = local_storage_refusal(self.app)
                if refusal is not None:
                    errors = {"enabled": FieldError("validation_local_storage_shared", refusal)}
            if errors:
                e.errors.setdefault("s3", {}).update(errors)
        await e.next()

    def _turns_local(self, s3_enabled: bool) -> bool:
        return storage_name(self.app) != "local" and storage_name(self.app, s3_enabled) == "local"
