"""What the field type tests share: helpers, expected errors, and the table tests.

Each ``test_field_<type>.py`` holds its type's tables, recorded from PocketBase 0.40.6, and
turns them into tests with ``TypeTables``, so that every type's tables run the same checks.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pytest
from pbk_records.fields import BUILTIN_FIELD_TYPES as T
from pbk_records.fields import complete_field
from pbk_sdk.errors import FieldError, _error_data

REQUIRED = {"code": "validation_required", "message": "Cannot be blank."}
INVALID_FORMAT = {"code": "validation_invalid_format", "message": "Invalid value format."}
EMPTY = {"code": "validation_empty", "message": "Must be blank."}
DOMAIN = {"code": "validation_is_domain", "message": "Must be a valid domain."}
THRESHOLD_MIN = "validation_min_greater_equal_than_required"
THRESHOLD_MAX = "validation_max_less_equal_than_required"

# The probed collection with one field of every type (/tmp/pbp/all.json).
ALL_FIELDS = [
    {"autogeneratePattern": "[a-z0-9]{15}", "help": "", "hidden": False, "id": "text3208210256", "max": 15, "min": 15, "name": "id", "pattern": "^[a-z0-9]+$", "presentable": False, "primaryKey": True, "required": True, "system": True, "type": "text"},
    {"autogeneratePattern": "", "help": "", "hidden": False, "id": "text2238339752", "max": 0, "min": 0, "name": "t", "pattern": "", "presentable": False, "primaryKey": False, "required": False, "system": False, "type": "text"},
    {"convertURLs": False, "help": "", "hidden": False, "id": "editor4024072794", "maxSize": 0, "name": "e", "presentable": False, "required": False, "system": False, "type": "editor"},
    {"help": "", "hidden": False, "id": "number2013832146", "max": None, "min": None, "name": "n", "onlyInt": False, "presentable": False, "required": False, "system": False, "type": "number"},
    {"help": "", "hidden": False, "id": "bool1908338681", "name": "b", "presentable": False, "required": False, "system": False, "type": "bool"},
    {"exceptDomains": [], "help": "", "hidden": False, "id": "email1783664888", "name": "em", "onlyDomains": [], "presentable": False, "required": False, "system": False, "type": "email"},
    {"exceptDomains": [], "help": "", "hidden": False, "id": "url4067256894", "name": "u", "onlyDomains": [], "presentable": False, "required": False, "system": False, "type": "url"},
    {"help": "", "hidden": False, "id": "date2564639436", "max": "", "min": "", "name": "d", "presentable": False, "required": False, "system": False, "type": "date"},
    {"hidden": False, "id": "autodate2011229528", "name": "ad", "onCreate": True, "onUpdate": False, "presentable": False, "system": False, "type": "autodate"},
    {"help": "", "hidden": False, "id": "select453955339", "maxSelect": 0, "name": "s", "presentable": False, "required": False, "system": False, "type": "select", "values": ["a", "b"]},
    {"help": "", "hidden": False, "id": "select1485186963", "maxSelect": 2, "name": "ms", "presentable": False, "required": False, "system": False, "type": "select", "values": ["a", "b"]},
    {"help": "", "hidden": False, "id": "json2137352139", "maxSize": 0, "name": "j", "presentable": False, "required": False, "system": False, "type": "json"},
    {"cascadeDelete": False, "collectionId": "_pb_users_auth_", "help": "", "hidden": False, "id": "relation1812594589", "maxSelect": 0, "minSelect": 0, "name": "r", "presentable": False, "required": False, "system": False, "type": "relation"},
    {"cascadeDelete": False, "collectionId": "_pb_users_auth_", "help": "", "hidden": False, "id": "relation796989189", "maxSelect": 5, "minSelect": 0, "name": "mr", "presentable": False, "required": False, "system": False, "type": "relation"},
    {"help": "", "hidden": False, "id": "file1993550816", "maxSelect": 0, "maxSize": 0, "mimeTypes": [], "name": "f", "presentable": False, "protected": False, "required": False, "system": False, "thumbs": [], "type": "file"},
    {"help": "", "hidden": False, "id": "geoPoint30677878", "name": "g", "presentable": False, "required": False, "system": False, "type": "geoPoint"},
]
PRIMARY_KEY = ALL_FIELDS[0]


def field(ftype: str, name: str = "f", **options: Any) -> dict[str, Any]:
    return complete_field({"name": name, "type": ftype, **options}, T)


def err(problem: FieldError | None) -> dict[str, Any] | None:
    return None if problem is None else problem.to_json()


def check(ftype: str, value: Any, **options: Any) -> tuple[Any, dict[str, Any] | None]:
    """(normalized value, validation error JSON) as a record create would see them."""
    f = field(ftype, **options)
    normalized = T[ftype].normalize(f, value)
    return normalized, err(T[ftype].validate(f, normalized))


def short(value: Any) -> str:
    """Readable test ids for long parameters."""
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= 40 else f"{text[:30]}...({len(text)})"


def no_less(n: int) -> dict[str, Any]:
    return {"code": THRESHOLD_MIN, "message": f"Must be no less than {n}.", "params": {"threshold": n}}


def no_greater(n: int) -> dict[str, Any]:
    return {"code": THRESHOLD_MAX, "message": f"Must be no greater than {n}.", "params": {"threshold": n}}


def regex(message: str) -> dict[str, Any]:
    return {"code": "validation_invalid_regex", "message": message}


class Upload:
    """An uploaded file as the files plugin hands it over: only its name matters here."""

    def __init__(self, name: str) -> None:
        self.name = name


# --------------------------------------------------------------------------- table tests


class TypeTables:
    """Turns one field type's tables into tests; a test module assigns each to a ``test_``
    name so that pytest collects it there."""

    def __init__(self, ftype: str) -> None:
        self.ftype = ftype

    def normalize(self, table: Sequence[tuple[Any, Any]]) -> Callable[..., None]:
        """(input, normalized value): equal and of the same Python type."""
        ftype = self.ftype

        @pytest.mark.parametrize(("value", "expected"), table, ids=short)
        def test_normalize(value: Any, expected: Any) -> None:
            got = T[ftype].normalize(field(ftype), value)
            assert got == expected
            assert type(got) is type(expected)

        return test_normalize

    def validate(self, table: Sequence[tuple[dict[str, Any], Any, Any]]) -> Callable[..., None]:
        """(field options, input, error JSON or None) of a record create."""
        ftype = self.ftype

        @pytest.mark.parametrize(("options", "value", "expected"), table, ids=short)
        def test_validate(options: dict[str, Any], value: Any, expected: dict[str, Any] | None) -> None:
            assert check(ftype, value, **options)[1] == expected

        return test_validate

    def round_trips(self, table: Sequence[tuple[dict[str, Any], Any, Any, Any]]) -> Callable[..., None]:
        """(field options, value, what ``to_db`` stores, what ``from_db`` reads back)."""
        ftype = self.ftype

        @pytest.mark.parametrize(("options", "value", "stored", "loaded"), table, ids=short)
        def test_to_db_from_db(options: dict[str, Any], value: Any, stored: Any, loaded: Any) -> None:
            f = field(ftype, **options)
            assert T[ftype].to_db(f, value) == stored
            assert T[ftype].from_db(f, stored) == loaded

        return test_to_db_from_db

    def from_db(self, table: Sequence[tuple[dict[str, Any], Any, Any]]) -> Callable[..., None]:
        """(field options, a raw column value, what ``from_db`` reads)."""
        ftype = self.ftype

        @pytest.mark.parametrize(("options", "raw", "loaded"), table, ids=short)
        def test_from_db(options: dict[str, Any], raw: Any, loaded: Any) -> None:
            assert T[ftype].from_db(field(ftype, **options), raw) == loaded

        return test_from_db

    def check_options(self, table: Sequence[tuple[dict[str, Any], dict[str, Any]]]) -> Callable[..., None]:
        """(posted field, the collection create's error JSON for that field's options)."""

        @pytest.mark.parametrize(("posted", "expected"), table, ids=short)
        def test_check_options(posted: dict[str, Any], expected: dict[str, Any]) -> None:
            f = complete_field({"name": "x", **posted}, T)
            assert _error_data(T[f["type"]].check_options(f)) == expected

        return test_check_options
