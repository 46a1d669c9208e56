"""``BUILTIN_FIELD_TYPES``: PocketBase 0.40's field types by type name."""

from __future__ import annotations

from pbk_sdk.interfaces import FieldType

from .autodate import AutodateType
from .boolean import BoolType
from .date import DateType
from .editor import EditorType
from .email import EmailType
from .file import FileType
from .geopoint import GeoPointType
from .jsonfield import JSONType
from .number import NumberType
from .password import PasswordType
from .relation import RelationType
from .select import SelectType
from .text import TextType
from .url import URLType

BUILTIN_FIELD_TYPES: dict[str, FieldType] = {
    t.name: t
    for t in (
        TextType(),
        EditorType(),
        NumberType(),
        BoolType(),
        EmailType(),
        URLType(),
        DateType(),
        AutodateType(),
        SelectType(),
        JSONType(),
        RelationType(),
        FileType(),
        PasswordType(),
        GeoPointType(),
    )
}
