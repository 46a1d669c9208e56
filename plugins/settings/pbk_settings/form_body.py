"""A ``PATCH /api/settings`` form body (multipart or urlencoded), read as PocketBase binds one.

PocketBase fills its settings struct from form fields named by the struct's ``form`` tags, and
then from each ``@jsonPayload`` part. Checked against the 0.40.6 binary:

- a field is named by its dotted path (``meta.appName``, ``smtp.port``, ``superuserIPs``),
  exactly (no case folding); a repeated field fills a list (``trustedProxy.headers``);
- a struct inside a section is read under its own tag alone, so ``s3.bucket`` sets both
  ``s3.bucket`` and ``backups.s3.bucket``, and ``backups.s3.*`` names nothing;
  ``rateLimits.rules`` (a list of objects) only comes in ``@jsonPayload``;
- text becomes the field's type as Go parses it: ``strconv.ParseBool`` (``1``, ``t``, ``TRUE``
  ...), ``strconv.ParseInt`` base 0 (``0x10``, ``1_000``, ``010`` octal); empty text is the
  zero value; anything else fails the request with the load error;
- the URL's query fields count as form fields (Go's ``Request.Form``), its ``@jsonPayload`` not;
- any other name (a section's, ``meta``; an unknown one) is ignored;
- each ``@jsonPayload`` is JSON whose keys match exactly, applied after the fields, one after
  another: a later one sets its keys of a section and keeps those an earlier one set; one that
  is not an object (``[1]``) fails the request.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl

from pbk_sdk.body import JSON_PAYLOAD
from pbk_sdk.gostrconv import parse_bool, parse_int

from .shape import LIST_ELEMENTS, POCKETBASE_DEFAULTS, LoadError, conform

FORM_TYPES = frozenset({"multipart/form-data", "application/x-www-form-urlencoded"})
Path = tuple[str, ...]


def _form_fields() -> dict[str, list[Path]]:
    """Each form field name PocketBase reads, and the settings it sets."""
    fields: dict[str, list[Path]] = {}
    for section, value in POCKETBASE_DEFAULTS.items():
        if not isinstance(value, dict):
            fields.setdefault(section, []).append((section,))
            continue
        for key, inner in value.items():
            if isinstance(inner, dict):  # read under its own tag: "s3.bucket" for backups.s3.bucket
                for leaf in inner:
                    fields.setdefault(f"{key}.{leaf}", []).append((section, key, leaf))
            elif not isinstance(LIST_ELEMENTS.get((section, key)), Mapping):
                fields.setdefault(f"{section}.{key}", []).append((section, key))
    return fields


FORM_FIELDS = _form_fields()


def is_form(req: Any) -> bool:
    return (req.content_type or "").split(";", 1)[0].strip().lower() in FORM_TYPES


def form_patch(
    data: Mapping[str, Any], payloads: list[Any], query_string: str, like: Mapping[str, Any]
) -> dict[str, Any]:
    """The settings a form body's fields (still text), its ``@jsonPayload`` values (parsed) and
    the URL's query set, in the shape of ``like``; raises ``LoadError`` where PocketBase fails
    to load the body. Names no form field has are dropped, as PocketBase drops them; the work
    is linear in the size of the body."""
    fields: dict[str, list[str]] = {}
    for name, value in data.items():
        if name in FORM_FIELDS:
            fields[name] = [str(v) for v in value] if isinstance(value, list) else [str(value)]
    for name, value in parse_qsl(query_string, keep_blank_values=True):
        if name in FORM_FIELDS:
            fields.setdefault(name, []).append(value)
    patch: dict[str, Any] = {}
    for name, texts in fields.items():
        for path in FORM_FIELDS[name]:
            _set(patch, path, _typed(texts, _at(POCKETBASE_DEFAULTS, path)))
    for payload in payloads:
        if payload is None:
            continue
        if not isinstance(payload, Mapping):
            raise LoadError(JSON_PAYLOAD)
        _merge_into(patch, conform(payload, like, fold_case=False))
    return patch


def _merge_into(patch: dict[str, Any], loaded: Mapping[str, Any]) -> None:
    """``loaded`` merged into ``patch`` in place, as one more ``json.Unmarshal`` into the same
    struct: objects merge, anything else replaces."""
    for key, value in loaded.items():
        if isinstance(value, Mapping) and isinstance(patch.get(key), dict):
            _merge_into(patch[key], value)
        else:
            patch[key] = value


def _typed(texts: list[str], like: Any) -> Any:
    if isinstance(like, list):
        return list(texts)
    text = texts[0]
    if isinstance(like, bool):
        value: bool | int | None = parse_bool(text or "f")
    elif isinstance(like, int):
        value = parse_int(text or "0")
    else:
        return text
    if value is None:
        raise LoadError(text)
    return value


def _at(document: Mapping[str, Any], path: Path) -> Any:
    node: Any = document
    for part in path:
        node = node[part]
    return node


def _set(document: dict[str, Any], path: Path, value: Any) -> None:
    for part in path[:-1]:
        document = document.setdefault(part, {})
    document[path[-1]] = value
