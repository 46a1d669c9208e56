"""A field's JSON definition as PocketBase stores it: ``complete_field`` decodes a posted
field the way Go's ``json.Unmarshal`` fills the field struct, then fills in the defaults."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ..gocompat.datetimes import parse_datetime
from ..gocompat.strconv import go_number, is_number
from ..schema import field_id
from .builtin import BUILTIN_FIELD_TYPES


class FieldFormatError(ValueError):
    """A posted field PocketBase cannot even decode (unknown type, ``"max": "5"``, ``5.5``
    for an integer option ...): the collection API answers 400 "Failed to load the submitted
    data due to invalid formatting." with no field details."""


_COMMON_KINDS = {
    "hidden": "bool", "id": "str", "name": "str", "presentable": "bool", "system": "bool", "type": "str",
}
_INPUT_KINDS = {"help": "str", "required": "bool"}

#: What a decoder returns for a value Go's ``json.Unmarshal`` refuses for that kind.
_REFUSED = object()


def _decode_bool(value: Any) -> Any:
    if value is None:
        return False
    return value if isinstance(value, bool) else _REFUSED


def _decode_str(value: Any) -> Any:
    if value is None:
        return ""
    return value if isinstance(value, str) else _REFUSED


def _decode_int(value: Any) -> Any:
    if value is None:
        return 0
    if isinstance(value, int) and not isinstance(value, bool) and -(2**63) <= value < 2**63:
        return value
    return _REFUSED


def _decode_optional_float(value: Any) -> Any:
    if value is None:
        return None
    return go_number(value) if is_number(value) else _REFUSED


def _decode_string_list(value: Any) -> Any:
    if value is None:
        return []
    if isinstance(value, list) and all(v is None or isinstance(v, str) for v in value):
        return ["" if v is None else v for v in value]
    return _REFUSED


def _decode_date(value: Any) -> Any:
    if value is None:
        return ""
    return parse_datetime(value) if isinstance(value, str) else _REFUSED


#: Option kinds (a field type's ``option_kinds``) and their decoders; any other kind, such
#: as ``"any"``, keeps the posted value as it is.
_DECODERS: dict[str, Callable[[Any], Any]] = {
    "bool": _decode_bool,
    "str": _decode_str,
    "int": _decode_int,
    "float?": _decode_optional_float,
    "strlist": _decode_string_list,
    "date": _decode_date,
}


def _decode_option(key: str, kind: str, value: Any) -> Any:
    """One field key as Go's ``json.Unmarshal`` decodes it into the field struct."""
    decode = _DECODERS.get(kind)
    if decode is None:
        return value
    decoded = decode(value)
    if decoded is _REFUSED:
        raise FieldFormatError(f"invalid value for field option {key!r}")
    return decoded


def _infer_kind(default: Any) -> str:
    if isinstance(default, bool):
        return "bool"
    if isinstance(default, int):
        return "int"
    if isinstance(default, str):
        return "str"
    if default is None:
        return "any"
    if isinstance(default, list):
        return "strlist"
    return "any"


def complete_field(data: Mapping[str, Any], field_types: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The field JSON PocketBase stores for a posted one: common keys and the type's options
    filled with their defaults, unknown keys dropped, ``id`` defaulted to type + CRC32(name),
    date options normalised, keys sorted as PocketBase outputs them.

    Raises ``FieldFormatError`` where PocketBase fails to decode the field.
    """
    if field_types is None:
        field_types = BUILTIN_FIELD_TYPES
    if not isinstance(data, Mapping):
        raise FieldFormatError("a field must be an object")
    ftype = data.get("type")
    if not isinstance(ftype, str) or ftype not in field_types:
        raise FieldFormatError(f"unknown field type {ftype!r}")
    impl = field_types[ftype]
    kinds: dict[str, str] = dict(_COMMON_KINDS)
    if getattr(impl, "input_keys", True):
        kinds.update(_INPUT_KINDS)
    declared = getattr(impl, "option_kinds", {}) or {}
    defaults = dict(getattr(impl, "options", {}) or {})
    for key, default in defaults.items():
        kinds[key] = declared.get(key) or _infer_kind(default)
    out: dict[str, Any] = {}
    for key, kind in kinds.items():
        if key in data:
            out[key] = _decode_option(key, kind, data[key])
        elif key in defaults:
            default = defaults[key]
            out[key] = list(default) if isinstance(default, list) else default
        else:
            out[key] = _decode_option(key, kind, None)
    out["type"] = ftype
    if not out.get("id"):
        out["id"] = field_id(ftype, out.get("name", ""))
    return dict(sorted(out.items()))
