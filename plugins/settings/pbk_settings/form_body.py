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
- the URL's query fields count as form fields (Go's ``Request.Form``);
- ``@jsonPayload`` is JSON whose keys match exactly, applied after the fields.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl

from pbk_sdk.body import JSON_PAYLOAD
from pbk_sdk.mappings import deep_merge

from .shape import INT64, LIST_ELEMENTS, POCKETBASE_DEFAULTS, LoadError, conform

FORM_TYPES = frozenset({"multipart/form-data", "application/x-www-form-urlencoded"})
_TRUE = frozenset({"1", "t", "T", "TRUE", "true", "True"})
_FALSE = frozenset({"0", "f", "F", "FALSE", "false", "False"})
_GO_INT = re.compile(r"[+-]?(?:0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|0[0-7_]*|[1-9][0-9_]*)")
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


def form_patch(data: Mapping[str, Any], query_string: str, like: Mapping[str, Any]) -> dict[str, Any]:
    """The settings a form body (its values still text) and the URL's query set, in the
    shape of ``like``; raises ``LoadError`` where PocketBase fails to load the body."""
    fields: dict[str, list[str]] = {}
    payloads: list[Any] = []
    for name, value in data.items():
        if name == JSON_PAYLOAD and isinstance(value, str | list):  # urlencoded: still text
            payloads.extend(value if isinstance(value, list) else [value])
        elif name in FORM_FIELDS and isinstance(value, str | list):
            fields[name] = [str(v) for v in value] if isinstance(value, list) else [value]
        else:  # multipart has merged its @jsonPayload objects in already
            payloads.append({name: value})
    for name, value in parse_qsl(query_string, keep_blank_values=True):
        fields.setdefault(name, []).append(value)
    patch: dict[str, Any] = {}
    for name, texts in fields.items():
        for path in FORM_FIELDS.get(name, ()):
            _set(patch, path, _typed(texts, _at(POCKETBASE_DEFAULTS, path)))
    for payload in payloads:
        patch = deep_merge(patch, conform(_json(payload), like, fold_case=False))
    return patch


def _json(payload: Any) -> Mapping[str, Any]:
    if isinstance(payload, str):  # a urlencoded body's @jsonPayload
        try:
            payload = json.loads(payload)
        except ValueError as exc:
            raise LoadError(JSON_PAYLOAD) from exc
    if payload is None:
        return {}
    if not isinstance(payload, Mapping):
        raise LoadError(JSON_PAYLOAD)
    return payload


def _typed(texts: list[str], like: Any) -> Any:
    if isinstance(like, list):
        return list(texts)
    text = texts[0]
    if isinstance(like, bool):
        return _go_bool(text)
    if isinstance(like, int):
        return _go_int(text)
    return text


def _go_bool(text: str) -> bool:
    text = text or "f"
    if text in _TRUE or text in _FALSE:
        return text in _TRUE
    raise LoadError(text)


def _go_int(text: str) -> int:
    text = text or "0"
    if not _GO_INT.fullmatch(text):
        raise LoadError(text)
    sign = "-" if text[0] == "-" else ""
    digits = text[1:] if text[0] in "+-" else text
    if len(digits) > 1 and digits[0] == "0" and digits[1] not in "xXoObB":
        digits = "0o" + digits[1:]  # Go's leading-zero octal
    try:
        number = int(sign + digits, 0)
    except ValueError as exc:  # misplaced underscores
        raise LoadError(text) from exc
    if not INT64[0] <= number <= INT64[1]:
        raise LoadError(text)
    return number


def _at(document: Mapping[str, Any], path: Path) -> Any:
    node: Any = document
    for part in path:
        node = node[part]
    return node


def _set(document: dict[str, Any], path: Path, value: Any) -> None:
    for part in path[:-1]:
        document = document.setdefault(part, {})
    document[path[-1]] = value
