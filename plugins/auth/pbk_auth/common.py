"""What the auth plugin's modules share: PocketBase's messages, the services it uses, and the
pieces of every sign-in answer (form reading, the auth rule, the {record, token} body)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pbk_sdk.auth import RequestAuth, password_hasher, request_auth
from pbk_sdk.body import read_body
from pbk_sdk.errors import ApiError

LOAD_FAILED = "An error occurred while loading the submitted data."
VALIDATION_FAILED = "An error occurred while validating the submitted data."
AUTH_FAILED = "Failed to authenticate."
MISSING_AUTH_COLLECTION = "Missing or invalid auth collection context."
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def store(app: Any) -> Any:
    return app.services.get("record_store", "sqlite")


def hasher(app: Any) -> Any:
    return password_hasher(app)


async def read_form(req: Any) -> dict[str, Any]:
    """An auth form body; keys match case-insensitively, as in PocketBase."""
    body = await read_body(req, bad_json=LOAD_FAILED)
    body.close()
    return {str(key).lower(): value for key, value in body.data.items()}


def auth_collection(app: Any, id_or_name: str) -> Any:
    collection = store(app).collection(id_or_name)
    if collection is None or collection.type != "auth":
        raise ApiError(404, MISSING_AUTH_COLLECTION)
    return collection


async def auth_response(app: Any, collection: Any, record: Mapping[str, Any], token: str, req: Any) -> dict[str, Any]:
    own = RequestAuth(record=record, collection_id=collection.id, collection_name=collection.name)
    expand = [p.strip() for p in (req.get_param("expand") or "").split(",") if p.strip()]
    viewer = request_auth(req) if request_auth(req) is not None and request_auth(req).is_superuser else own
    presented = await store(app).present(collection, record, viewer, expand=expand)
    return {"record": presented, "token": token}


async def check_auth_rule(app: Any, collection: Any, record: Mapping[str, Any], context: str) -> None:
    rule = collection.rule("authRule")
    if rule is None:
        raise ApiError(403, "The request doesn't satisfy the collection requirements to authenticate.")
    if rule.strip():
        own = RequestAuth(record=record, collection_id=collection.id, collection_name=collection.name)
        if not await store(app).matches_rule(collection, record["id"], rule, own, context=context):
            raise ApiError(403, "The request doesn't satisfy the collection requirements to authenticate.")
