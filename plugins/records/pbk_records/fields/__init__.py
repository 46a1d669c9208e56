"""PocketBase 0.40's built-in collection field types.

One module per type (``text`` ... ``geopoint``), each class a ``pbk_sdk.fields.BaseFieldType``,
as PocketBase keeps one ``core/field_*.go`` file per type; ``BUILTIN_FIELD_TYPES`` maps type
names to instances and ``complete_field`` fills a posted field JSON the way PocketBase does
before storing it.

Everything was checked against the PocketBase 0.40.6 binary: the lenient input coercion, the
validation codes, messages and params, the option defaults and the option checks of a
collection create. The Go behaviour this relies on lives in ``pbk_records.gocompat``.
"""

from .autodate import AutodateType
from .boolean import BoolType
from .builtin import BUILTIN_FIELD_TYPES
from .date import DateType
from .definition import FieldFormatError, complete_field
from .editor import EditorType
from .email import EmailType
from .file import FileType
from .geopoint import GeoPointType
from .jsonfield import InvalidJSON, JSONType
from .number import NumberType
from .password import PasswordType
from .relation import RelationType
from .select import SelectType
from .text import TextType
from .url import URLType

__all__ = [
    "BUILTIN_FIELD_TYPES",
    "AutodateType",
    "BoolType",
    "DateType",
    "EditorType",
    "EmailType",
    "FieldFormatError",
    "FileType",
    "GeoPointType",
    "InvalidJSON",
    "JSONType",
    "NumberType",
    "PasswordType",
    "RelationType",
    "SelectType",
    "TextType",
    "URLType",
    "complete_field",
]
