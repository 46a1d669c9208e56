"""Reading a request body into one of PocketBase's forms, as its ``BindBody`` does: keys match
case-insensitively, unknown keys are dropped, ``null`` is the zero value, and a value of the
wrong JSON type (or malformed JSON) is a 400 "loading" error."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pbk_sdk.body import read_body
from pbk_sdk.errors import ApiError

from .form_body import form_patch, is_form
from .shape import LoadError, conform

LOAD_ERROR = "An error occurred while loading the submitted data."


async def read_json(req: Any) -> dict[str, Any]:
    """The request's JSON object (empty for an empty body or ``null``)."""
    body = await read_body(req, bad_json=LOAD_ERROR)
    body.close()
    return body.data


def loaded(data: Mapping[str, Any], like: Mapping[str, Any]) -> dict[str, Any]:
    """The values ``data`` sets in a document shaped like ``like`` (``shape.conform``)."""
    try:
        return conform(data, like)
    except LoadError as exc:
        raise ApiError(400, LOAD_ERROR) from exc


async def read_settings_patch(req: Any, like: Mapping[str, Any]) -> dict[str, Any]:
    """The values a ``PATCH /api/settings`` body sets in a document shaped like ``like``: a
    JSON object, or a form (``form_body``)."""
    if not is_form(req):
        return loaded(await read_json(req), like)
    body = await read_body(req, bad_json=LOAD_ERROR, infer_values=False, json_payloads=True)
    body.close()
    try:
        return form_patch(body.data, body.payloads, req.query_string or "", like)
    except LoadError as exc:
        raise ApiError(400, LOAD_ERROR) from exc


async def read_form(req: Any, form: Mapping[str, Any]) -> dict[str, Any]:
    """The body loaded over ``form`` (field name → zero value, which also gives the type)."""
    return {**form, **loaded(await read_json(req), form)}
