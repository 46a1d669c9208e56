"""The built-in field types against what PocketBase 0.40.6 does.

The tables below were recorded from the real binary; ``test_differential_against_pocketbase``
(marked slow) replays a similar table against a freshly started ``pocketbase`` and compares.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Iterator, Mapping
from typing import Any

import httpx
import pytest
from pbk_sdk.errors import FieldError, _error_data
from pbk_sdk.testing import pocketbase_superuser, start_pocketbase, superuser_token

from pbk_records.fields import (
    BUILTIN_FIELD_TYPES as T,
)
from pbk_records.fields import (
    FieldFormatError,
    InvalidJSON,
    complete_field,
    generate_from_pattern,
    go_regex_error,
    go_regex_match,
    go_sprint,
    is_email,
    is_url,
    parse_datetime,
)


def field(ftype: str, name: str = "f", **options: Any) -> dict[str, Any]:
    return complete_field({"name": name, "type": ftype, **options}, T)


def err(problem: FieldError | None) -> dict[str, Any] | None:
    return None if problem is None else problem.to_json()


def check(ftype: str, value: Any, **options: Any) -> tuple[Any, dict[str, Any] | None]:
    """(normalized value, validation error JSON) as a record create would see them."""
    f = field(ftype, **options)
    normalized = T[ftype].normalize(f, value)
    return normalized, err(T[ftype].validate(f, normalized))


REQUIRED = {"code": "validation_required", "message": "Cannot be blank."}


def short(value: Any) -> str:
    """Readable test ids for long parameters."""
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= 40 else f"{text[:30]}...({len(text)})"


# =========================================================================== field JSON

# What PocketBase returned for minimal field definitions (collection create).
POCKETBASE_FIELDS = [
    (
        {"name": "a", "type": "text"},
        {"autogeneratePattern": "", "help": "", "hidden": False, "id": "text3904355907", "max": 0, "min": 0, "name": "a", "pattern": "", "presentable": False, "primaryKey": False, "required": False, "system": False, "type": "text"},
    ),
    (
        {"name": "e", "type": "editor"},
        {"convertURLs": False, "help": "", "hidden": False, "id": "editor4024072794", "maxSize": 0, "name": "e", "presentable": False, "required": False, "system": False, "type": "editor"},
    ),
    (
        {"name": "n", "type": "number"},
        {"help": "", "hidden": False, "id": "number2013832146", "max": None, "min": None, "name": "n", "onlyInt": False, "presentable": False, "required": False, "system": False, "type": "number"},
    ),
    (
        {"name": "b", "type": "bool"},
        {"help": "", "hidden": False, "id": "bool1908338681", "name": "b", "presentable": False, "required": False, "system": False, "type": "bool"},
    ),
    (
        {"name": "em", "type": "email"},
        {"exceptDomains": [], "help": "", "hidden": False, "id": "email1783664888", "name": "em", "onlyDomains": [], "presentable": False, "required": False, "system": False, "type": "email"},
    ),
    (
        {"name": "u", "type": "url"},
        {"exceptDomains": [], "help": "", "hidden": False, "id": "url4067256894", "name": "u", "onlyDomains": [], "presentable": False, "required": False, "system": False, "type": "url"},
    ),
    (
        {"name": "d", "type": "date"},
        {"help": "", "hidden": False, "id": "date2564639436", "max": "", "min": "", "name": "d", "presentable": False, "required": False, "system": False, "type": "date"},
    ),
    (
        {"name": "ad", "type": "autodate", "onUpdate": True},
        {"hidden": False, "id": "autodate2011229528", "name": "ad", "onCreate": False, "onUpdate": True, "presentable": False, "system": False, "type": "autodate"},
    ),
    (
        {"name": "s", "type": "select", "values": ["x"]},
        {"help": "", "hidden": False, "id": "select453955339", "maxSelect": 0, "name": "s", "presentable": False, "required": False, "system": False, "type": "select", "values": ["x"]},
    ),
    (
        {"name": "j", "type": "json"},
        {"help": "", "hidden": False, "id": "json2137352139", "maxSize": 0, "name": "j", "presentable": False, "required": False, "system": False, "type": "json"},
    ),
    (
        {"name": "r", "type": "relation", "collectionId": "_pb_users_auth_"},
        {"cascadeDelete": False, "collectionId": "_pb_users_auth_", "help": "", "hidden": False, "id": "relation1812594589", "maxSelect": 0, "minSelect": 0, "name": "r", "presentable": False, "required": False, "system": False, "type": "relation"},
    ),
    (
        {"name": "f", "type": "file"},
        {"help": "", "hidden": False, "id": "file1993550816", "maxSelect": 0, "maxSize": 0, "mimeTypes": [], "name": "f", "presentable": False, "protected": False, "required": False, "system": False, "thumbs": [], "type": "file"},
    ),
    (
        {"name": "pw", "type": "password"},
        {"cost": 0, "help": "", "hidden": False, "id": "password2693238678", "max": 0, "min": 0, "name": "pw", "pattern": "", "presentable": False, "required": False, "system": False, "type": "password"},
    ),
    (
        {"name": "g", "type": "geoPoint"},
        {"help": "", "hidden": False, "id": "geoPoint30677878", "name": "g", "presentable": False, "required": False, "system": False, "type": "geoPoint"},
    ),
    # unknown keys dropped, id "" generated, own id kept, common keys kept, null → zero value
    (
        {"name": "a", "type": "text", "bogus": 1, "max": 3, "id": ""},
        {"autogeneratePattern": "", "help": "", "hidden": False, "id": "text3904355907", "max": 3, "min": 0, "name": "a", "pattern": "", "presentable": False, "primaryKey": False, "required": False, "system": False, "type": "text"},
    ),
    (
        {"name": "a", "type": "text", "id": "myid", "system": True, "hidden": True, "presentable": True, "help": "hi", "max": None},
        {"autogeneratePattern": "", "help": "hi", "hidden": True, "id": "myid", "max": 0, "min": 0, "name": "a", "pattern": "", "presentable": True, "primaryKey": False, "required": False, "system": True, "type": "text"},
    ),
    (
        {"name": "a", "type": "number", "min": 1.5, "max": None},
        {"help": "", "hidden": False, "id": "number3904355907", "max": None, "min": 1.5, "name": "a", "onlyInt": False, "presentable": False, "required": False, "system": False, "type": "number"},
    ),
    (
        {"name": "a", "type": "autodate", "onCreate": True, "required": True, "help": "x"},
        {"hidden": False, "id": "autodate3904355907", "name": "a", "onCreate": True, "onUpdate": False, "presentable": False, "system": False, "type": "autodate"},
    ),
    (
        {"name": "a", "type": "date", "min": "2024-01-01T10:00:00+02:00", "max": "garbage"},
        {"help": "", "hidden": False, "id": "date3904355907", "max": "", "min": "2024-01-01 08:00:00.000Z", "name": "a", "presentable": False, "required": False, "system": False, "type": "date"},
    ),
    (
        {"name": "a", "type": "email", "onlyDomains": None},
        {"exceptDomains": [], "help": "", "hidden": False, "id": "email3904355907", "name": "a", "onlyDomains": [], "presentable": False, "required": False, "system": False, "type": "email"},
    ),
    (
        {"name": "a", "type": "select", "values": ["b", "a", "a"]},
        {"help": "", "hidden": False, "id": "select3904355907", "maxSelect": 0, "name": "a", "presentable": False, "required": False, "system": False, "type": "select", "values": ["b", "a", "a"]},
    ),
]

# The probed collection with one field of every type (/tmp/pbp/all.json) and its table DDL.
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
ALL_DDL = (
    "CREATE TABLE `all` (`ad` TEXT DEFAULT '' NOT NULL, `b` BOOLEAN DEFAULT FALSE NOT NULL, "
    "`d` TEXT DEFAULT '' NOT NULL, `e` TEXT DEFAULT '' NOT NULL, `em` TEXT DEFAULT '' NOT NULL, "
    "`f` TEXT DEFAULT '' NOT NULL, `g` JSON DEFAULT '{\"lon\":0,\"lat\":0}' NOT NULL, "
    "`id` TEXT PRIMARY KEY DEFAULT ('r'||lower(hex(randomblob(7)))) NOT NULL, `j` JSON DEFAULT NULL, "
    "`mr` JSON DEFAULT '[]' NOT NULL, `ms` JSON DEFAULT '[]' NOT NULL, `n` NUMERIC DEFAULT 0 NOT NULL, "
    "`r` TEXT DEFAULT '' NOT NULL, `s` TEXT DEFAULT '' NOT NULL, `t` TEXT DEFAULT '' NOT NULL, "
    "`u` TEXT DEFAULT '' NOT NULL)"
)


@pytest.mark.parametrize(("posted", "stored"), POCKETBASE_FIELDS)
def test_complete_field_matches_pocketbase(posted: dict[str, Any], stored: dict[str, Any]) -> None:
    completed = complete_field(posted, T)
    assert completed == stored
    assert list(completed) == sorted(completed)


@pytest.mark.parametrize("stored", ALL_FIELDS, ids=lambda f: f["name"])
def test_complete_field_keeps_stored_fields(stored: dict[str, Any]) -> None:
    assert complete_field(stored, T) == stored


def test_column_definitions_match_pocketbase_ddl() -> None:
    columns = ", ".join(
        f"`{f['name']}` {T[f['type']].column_definition(f)}" for f in sorted(ALL_FIELDS, key=lambda f: f["name"])
    )
    assert f"CREATE TABLE `all` ({columns})" == ALL_DDL
    assert T["password"].column_definition(field("password")) == "TEXT DEFAULT '' NOT NULL"
    assert T["file"].column_definition(field("file", maxSelect=2)) == "JSON DEFAULT '[]' NOT NULL"


@pytest.mark.parametrize(
    "posted",
    [
        {"name": "a", "type": "nope"},
        {"name": "a"},
        {"name": "a", "type": "text", "max": "5"},
        {"name": "a", "type": "text", "max": 5.5},
        {"name": "a", "type": "text", "max": 5.0},
        {"name": "a", "type": "text", "required": "true"},
        {"name": "a", "type": "text", "required": 1},
        {"name": "a", "type": "select", "values": "a"},
        {"name": "a", "type": "select", "values": [1]},
        {"name": "a", "type": "number", "min": "1"},
        {"name": "a", "type": "number", "min": True},
        {"name": "a", "type": "date", "min": 5},
        {"name": 5, "type": "text"},
        ["not", "an", "object"],
    ],
)
def test_complete_field_rejects_what_pocketbase_cannot_decode(posted: Any) -> None:
    with pytest.raises(FieldFormatError):
        complete_field(posted, T)


def test_zero_values_and_multiplicity() -> None:
    zeros = {f["name"]: T[f["type"]].zero_value(f) for f in ALL_FIELDS}
    assert zeros == {
        "id": "", "t": "", "e": "", "n": 0, "b": False, "em": "", "u": "", "d": "", "ad": "",
        "s": "", "ms": [], "j": None, "r": "", "mr": [], "f": "", "g": {"lon": 0, "lat": 0},
    }
    assert [f["name"] for f in ALL_FIELDS if T[f["type"]].is_multiple(f)] == ["ms", "mr"]


# =========================================================================== normalize

NORMALIZE = [
    # text: cast.ToString, numbers as Go prints float64 ('f', shortest)
    ("text", 123, "123"),
    ("text", 1.5, "1.5"),
    ("text", 1.0, "1"),
    ("text", 1e21, "1000000000000000000000"),
    ("text", 1e-7, "0.0000001"),
    ("text", -0.0, "-0"),
    ("text", 12345678901234567890, "12345678901234567000"),
    ("text", 9007199254740993, "9007199254740992"),
    ("text", 0.1 + 0.2, "0.30000000000000004"),
    ("text", True, "true"),
    ("text", None, ""),
    ("text", [1, 2], ""),
    ("text", {"a": 1}, ""),
    ("text", " x ", " x "),
    ("editor", 5, "5"),
    ("email", 123, "123"),
    # number: cast.ToFloat64 with strconv.ParseFloat syntax
    ("number", "12", 12),
    ("number", "abc", 0),
    ("number", True, 1),
    ("number", False, 0),
    ("number", None, 0),
    ("number", "1e3", 1000),
    ("number", " 12 ", 0),
    ("number", "0x1F", 0),
    ("number", "0x1p4", 16),
    ("number", "0x1.8p1", 3),
    ("number", "12abc", 0),
    ("number", [1], 0),
    ("number", {"a": 1}, 0),
    ("number", "", 0),
    ("number", 1.5, 1.5),
    ("number", 1.0, 1),
    ("number", "1_000", 1000),
    ("number", "1__0", 0),
    ("number", "_1", 0),
    ("number", "1_", 0),
    ("number", "1_.5", 0),
    ("number", "1_0e1_0", 100000000000),
    ("number", "+5", 5),
    ("number", ".5", 0.5),
    ("number", "5.", 5),
    ("number", "1,5", 0),
    ("number", "1e400", 0),
    ("number", "1e-400", 0),
    ("number", "+nan", 0),
    ("number", "0b101", 0),
    ("number", "017", 17),
    ("number", "1e", 0),
    ("number", "1E5", 100000),
    ("number", 12345678901234567890, 12345678901234567000),
    # bool: cast.ToBool (strconv.ParseBool)
    ("bool", "1", True),
    ("bool", "yes", False),
    ("bool", "true", True),
    ("bool", "TRUE", True),
    ("bool", "True", True),
    ("bool", "t", True),
    ("bool", "T", True),
    ("bool", "tRue", False),
    ("bool", " true", False),
    ("bool", "0", False),
    ("bool", "on", False),
    ("bool", 1, True),
    ("bool", 2, True),
    ("bool", -1, True),
    ("bool", 0.5, True),
    ("bool", 0, False),
    ("bool", None, False),
    ("bool", [1], False),
    ("bool", {}, False),
    # date: PocketBase's layout, then cast.ToTime's list; UTC, milliseconds
    ("date", "2024-05-06", "2024-05-06 00:00:00.000Z"),
    ("date", "2024-05-06T10:11:12Z", "2024-05-06 10:11:12.000Z"),
    ("date", "2024-05-06T10:11:12+02:00", "2024-05-06 08:11:12.000Z"),
    ("date", "2024-05-06 10:11:12", "2024-05-06 10:11:12.000Z"),
    ("date", "2024-05-06 10:11:12.123Z", "2024-05-06 10:11:12.123Z"),
    ("date", "2024-05-06T10:11:12.123456789Z", "2024-05-06 10:11:12.123Z"),
    ("date", "2024-05-06 10:11:12.5Z", "2024-05-06 10:11:12.500Z"),
    ("date", "2024-05-06 10:11:12.12Z", "2024-05-06 10:11:12.120Z"),
    ("date", "2024-05-06 10:11:12.000", "2024-05-06 10:11:12.000Z"),
    ("date", "2024-05-06 10:11:12,5", "2024-05-06 10:11:12.500Z"),
    ("date", "2024-05-06  10:11:12", "2024-05-06 10:11:12.000Z"),
    ("date", "2024-05-06 1:11:12", "2024-05-06 01:11:12.000Z"),
    ("date", "2024-05-06T10:11:12", "2024-05-06 10:11:12.000Z"),
    ("date", "2024-05-06 10:11:12Z", "2024-05-06 10:11:12.000Z"),
    ("date", "2024-05-06 10:11:12+0200", "2024-05-06 08:11:12.000Z"),
    ("date", "2024-05-06T10:11:12+0200", "2024-05-06 08:11:12.000Z"),
    ("date", "2024-05-06T10:11:12.1+02:00", "2024-05-06 08:11:12.100Z"),
    ("date", "2024-05-06 10:11:12.000+02:00", "2024-05-06 08:11:12.000Z"),
    ("date", "2024-05-06 10:11:12 -07:00", "2024-05-06 17:11:12.000Z"),
    ("date", "2024-05-06 10:11:12 -0700", "2024-05-06 17:11:12.000Z"),
    ("date", "2024-05-06 10:11:12+02:00", "2024-05-06 08:11:12.000Z"),
    ("date", "2024-05-06T10:11:12-00:00", "2024-05-06 10:11:12.000Z"),
    ("date", "1999-12-31T23:30:00-01:00", "2000-01-01 00:30:00.000Z"),
    ("date", "2024-05-06T10:11:12.1234567891Z", "2024-05-06 10:11:12.123Z"),
    ("date", "2024-05-06 10:11:12.999999999 -0700 XYZ", "2024-05-06 17:11:12.999Z"),
    ("date", "2024-05-06 10:11:12.5 +0200 CEST", "2024-05-06 08:11:12.500Z"),
    ("date", "Mon, 06 May 2024 10:11:12 GMT", "2024-05-06 10:11:12.000Z"),
    ("date", "mon, 06 may 2024 10:11:12 GMT", "2024-05-06 10:11:12.000Z"),
    ("date", "Fri, 06 May 2024 10:11:12 PST", "2024-05-06 10:11:12.000Z"),
    ("date", "Mon, 06 May 2024 10:11:12 GMT+3", "2024-05-06 13:11:12.000Z"),
    ("date", "Mon, 06 May 2024 10:11:12 CHST", "2024-05-06 10:11:12.000Z"),
    ("date", "Mon, 06 May 2024 10:11:12 ABCDT", "2024-05-06 10:11:12.000Z"),
    ("date", "06 May 24 10:11 MST", "2024-05-06 10:11:00.000Z"),
    ("date", "06 May 70 10:11 +0130", "1970-05-06 08:41:00.000Z"),
    ("date", "Monday, 06-May-24 10:11:12 UTC", "2024-05-06 10:11:12.000Z"),
    ("date", "Mon May  6 10:11:12 2024", "2024-05-06 10:11:12.000Z"),
    ("date", "Mon May  6 10:11:12 PDT 2024", "2024-05-06 10:11:12.000Z"),
    ("date", "Mon May 06 10:11:12 +0200 2024", "2024-05-06 08:11:12.000Z"),
    ("date", "06 May 2024", "2024-05-06 00:00:00.000Z"),
    ("date", "3:04PM", "0000-01-01 15:04:00.000Z"),
    ("date", "Jan  6 15:04:05", "0000-01-06 15:04:05.000Z"),
    ("date", "Jan 6 15:04:05.123", "0000-01-06 15:04:05.123Z"),
    ("date", "0000-01-01T00:00:00Z", "0000-01-01 00:00:00.000Z"),
    ("date", "9999-12-31T23:59:59+00:00", "9999-12-31 23:59:59.000Z"),
    ("date", "0001-01-01 00:00:00.000Z", ""),
    ("date", "garbage", ""),
    ("date", "", ""),
    ("date", None, ""),
    ("date", 1715000000, ""),
    ("date", 1715000000.5, ""),
    ("date", "1715000000", ""),
    ("date", True, ""),
    ("date", [1], ""),
    ("date", "2024-5-6", ""),
    ("date", "06/05/2024", ""),
    ("date", "2024-05-06T10:11", ""),
    ("date", "2024-13-01", ""),
    ("date", "2024-02-30", ""),
    ("date", "2024-05-06 24:00:00", ""),
    ("date", "2024-05-06T10:11:12z", ""),
    ("date", "2024-05-06t10:11:12Z", ""),
    ("date", " 2024-05-06", ""),
    ("date", "2024-05-06T10:11:12+25:00", ""),
    ("date", "2024-05-06T10:11:12+02:61", ""),
    ("date", "2024-05-06T10:11:12.Z", ""),
    ("date", "2024-05-06 10:11:12.000Z0", ""),
    ("autodate", "2024-05-06", "2024-05-06 00:00:00.000Z"),
    # select / relation: list.ToUniqueStringSlice, single keeps the last
    ("select", ["a", "b"], "b"),
    ("select", ["", "a"], "a"),
    ("select", None, ""),
    ("select", 1, "1"),
    ("select", True, "true"),
    ("select", '["a","b"]', "b"),
    ("select", "[bad", "[bad"),
    ("select", {"x": 1}, ""),
    ("select", [["a"]], ""),
    ("select", "a b", "a b"),
    ("relation", ["x", "y"], "y"),
    ("relation", [], ""),
]

MULTI_NORMALIZE = [
    ("a", ["a"]),
    (["a", "a", "b"], ["a", "b"]),
    (["c", "b", "a"], ["c", "b", "a"]),
    ('["a","b"]', ["a", "b"]),
    ('  ["a"]', ["a"]),
    ('["a"] ', ["a"]),
    ('["a"] x', ['["a"] x']),
    ("[]", []),
    ('[""]', []),
    ('["a", null, "b"]', ["a", "b"]),
    ('["zz", 1]', ["zz", '["zz", 1]']),
    ('[1, "zz"]', ['[1, "zz"]']),
    ('["a", ["b"], "zz"]', ["a", '["a", ["b"], "zz"]']),
    ("[1]", ["[1]"]),
    ("", []),
    (None, []),
    ([""], []),
    (1, ["1"]),
    ([1, True], ["1", "true"]),
    ([None, "a"], ["a"]),
    ([1.5], ["1.5"]),
    ([{"a": 1}], []),
    ("a b", ["a b"]),
]

JSON_NORMALIZE = [
    ("abc", "abc"),
    ("", ""),
    ("null", None),
    ("true", True),
    ("123", 123),
    ('"q"', "q"),
    ("[1,2]", [1, 2]),
    ('{"a":1}', {"a": 1}),
    (" [1]", " [1]"),
    ("-", "-"),
    ("-5", -5),
    ("1e5", 100000.0),
    ("1.0", 1.0),
    ("01", "01"),
    (" 1", " 1"),
    ("{bad", "{bad"),
    ('"unterminated', '"unterminated'),
    ("NaN", "NaN"),
    (None, None),
    (0, 0),
    (1.5, 1.5),
    (1.0, 1),
    (True, True),
    (1e21, 1e21),
    (12345678901234567890, 12345678901234567000),
    ([1, "a", None], [1, "a", None]),
    ({"b": 2, "a": 1, "c": {"z": 1, "y": 2}}, {"a": 1, "b": 2, "c": {"y": 2, "z": 1}}),
    ({"b": 1, "a": [1.5, 2.0]}, {"a": [1.5, 2], "b": 1}),
    ('{"b":2,"a":1}', {"b": 2, "a": 1}),
    ("a\x08b", "a\x08b"),
    ("a\u200bb", "a\u200bb"),
    ({"a": "x\x01"}, {"a": "x\x01"}),
]

GEO_NORMALIZE = [
    ({"lon": 1, "lat": 2}, {"lon": 1, "lat": 2}),
    ({"lat": 2}, {"lon": 0, "lat": 2}),
    ({"lon": "1", "lat": "2"}, {"lon": 0, "lat": 0}),
    ('{"lon":1,"lat":2}', {"lon": 1, "lat": 2}),
    ('{"lon":5,"Lat":6}', {"lon": 5, "lat": 0}),
    ('{"lon":true,"lat":1}', {"lon": 0, "lat": 0}),
    ('{"lat":1,"lon":true}', {"lon": 0, "lat": 1}),
    ('{"lon":5,"lat":6} ', {"lon": 5, "lat": 6}),
    ('{"lon":1e400}', {"lon": 0, "lat": 0}),
    ("[1,2]", {"lon": 0, "lat": 0}),
    ("null", {"lon": 0, "lat": 0}),
    ("garbage", {"lon": 0, "lat": 0}),
    ("", {"lon": 0, "lat": 0}),
    (None, {"lon": 0, "lat": 0}),
    ([1, 2], {"lon": 0, "lat": 0}),
    ({}, {"lon": 0, "lat": 0}),
    (5, {"lon": 0, "lat": 0}),
    ({"lon": 1, "lat": 2, "x": 3}, {"lon": 1, "lat": 2}),
    ({"LON": 5, "Lat": 6}, {"lon": 0, "lat": 0}),
    ({"Lon": 5, "lat": 6}, {"lon": 0, "lat": 6}),
    ({"lon": None, "lat": 1}, {"lon": 0, "lat": 1}),
    ({"lon": 5, "lat": None}, {"lon": 5, "lat": 0}),
    ({"lon": 1.5, "lat": -2.25}, {"lon": 1.5, "lat": -2.25}),
]


@pytest.mark.parametrize(("ftype", "value", "expected"), NORMALIZE, ids=short)
def test_normalize(ftype: str, value: Any, expected: Any) -> None:
    got = T[ftype].normalize(field(ftype), value)
    assert got == expected
    assert type(got) is type(expected)


@pytest.mark.parametrize(("value", "expected"), MULTI_NORMALIZE, ids=short)
def test_normalize_multiple(value: Any, expected: list[str]) -> None:
    assert T["select"].normalize(field("select", values=["a"], maxSelect=5), value) == expected
    assert T["relation"].normalize(field("relation", collectionId="x", maxSelect=5), value) == expected
    single = T["select"].normalize(field("select", values=["a"]), value)
    assert single == (expected[-1] if expected else "")


@pytest.mark.parametrize(("value", "expected"), JSON_NORMALIZE, ids=short)
def test_normalize_json(value: Any, expected: Any) -> None:
    got = T["json"].normalize(field("json"), value)
    assert got == expected
    assert type(got) is type(expected)
    if isinstance(expected, dict):
        assert list(got) == list(expected)


@pytest.mark.parametrize(("value", "expected"), GEO_NORMALIZE, ids=short)
def test_normalize_geo_point(value: Any, expected: dict[str, Any]) -> None:
    got = T["geoPoint"].normalize(field("geoPoint"), value)
    assert got == expected
    assert list(got) == ["lon", "lat"]


class Upload:
    def __init__(self, name: str) -> None:
        self.name = name


def test_normalize_files() -> None:
    multi = field("file", maxSelect=3)
    a, b = Upload("a.txt"), Upload("b.txt")
    assert T["file"].normalize(multi, ["x.txt", a, "x.txt", b, Upload("a.txt")]) == ["x.txt", a, b]
    assert T["file"].normalize(multi, "x.txt") == ["x.txt"]
    assert T["file"].normalize(multi, [["y"], ["p", "q"], ""]) == ["y"]
    assert T["file"].normalize(field("file"), ["x.txt", a]) is a
    assert T["file"].normalize(field("file"), []) == ""
    assert T["file"].to_db(multi, ["x.txt", a]) == '["x.txt","a.txt"]'
    assert T["file"].to_db(field("file"), a) == "a.txt"


# =========================================================================== validate


def min_date(threshold: str, text: str) -> dict[str, Any]:
    return {"code": "validation_min_greater_equal_than_required", "message": f"Must be no less than {text}.", "params": {"threshold": threshold}}


def max_date(threshold: str, text: str) -> dict[str, Any]:
    return {"code": "validation_max_less_equal_than_required", "message": f"Must be no greater than {text}.", "params": {"threshold": threshold}}


INVALID_FORMAT = {"code": "validation_invalid_format", "message": "Invalid value format."}
NOT_A_NUMBER = {"code": "validation_not_a_number", "message": "The submitted number is not properly formatted."}
ONLY_INT = {"code": "validation_only_int_constraint", "message": "Decimal numbers are not allowed."}
IS_EMAIL = {"code": "validation_is_email", "message": "Must be a valid email address."}
EMAIL_DOMAIN = {"code": "validation_email_domain_not_allowed", "message": "Email domain is not allowed."}
INVALID_URL = {"code": "validation_invalid_url", "message": "Must be a valid url."}
URL_DOMAIN = {"code": "validation_url_domain_not_allowed", "message": "Url domain is not allowed."}
INVALID_JSON = {"code": "validation_invalid_json", "message": "Must be a valid json value."}
LATITUDE = {"code": "validation_invalid_latitude", "message": "Latitude must be between -90 and 90 degrees."}
LONGITUDE = {"code": "validation_invalid_longitude", "message": "Longitude must be between -180 and 180 degrees."}

TEXT = {"min": 3, "max": 5, "pattern": "^[a-z]+$"}
NUMBER = {"min": 2, "max": 10, "onlyInt": True}
DATE = {"min": "2024-01-01", "max": "2024-12-31 12:00:00.5Z"}

VALIDATE = [
    ("text", TEXT, "ab", {"code": "validation_min_text_constraint", "message": "Must be at least 3 character(s).", "params": {"min": 3}}),
    ("text", TEXT, "abcdef", {"code": "validation_max_text_constraint", "message": "Must be no more than 5 character(s).", "params": {"max": 5}}),
    ("text", TEXT, "ABC", INVALID_FORMAT),
    ("text", TEXT, "abç", INVALID_FORMAT),
    ("text", TEXT, "abc", None),
    ("text", TEXT, "", None),
    ("text", {"required": True}, "", REQUIRED),
    ("text", {}, "x" * 5001, {"code": "validation_max_text_constraint", "message": "Must be no more than 5000 character(s).", "params": {"max": 5000}}),
    ("text", {}, "ü" * 5000, None),
    ("text", {"min": 3, "max": 0}, "abcdef", None),
    ("text", {"pattern": "^a$"}, "a\n", INVALID_FORMAT),  # Go's $ is the end of the text
    ("text", {"pattern": "\\d"}, "٣", INVALID_FORMAT),  # Go's \d is ASCII
    ("text", {"pattern": "[a-"}, "a", INVALID_FORMAT),
    ("editor", {"maxSize": 10}, "x" * 11, {"code": "validation_content_size_limit", "message": "The maximum allowed content size is 10 bytes.", "params": {"maxSize": 10}}),
    ("editor", {"maxSize": 10}, "é" * 6, {"code": "validation_content_size_limit", "message": "The maximum allowed content size is 10 bytes.", "params": {"maxSize": 10}}),
    ("editor", {"maxSize": 10}, "é" * 5, None),
    ("editor", {"maxSize": 10, "required": True}, "", REQUIRED),
    ("editor", {}, "x" * (5 << 20), None),
    ("editor", {}, "x" * ((5 << 20) + 1), {"code": "validation_content_size_limit", "message": "The maximum allowed content size is 5242880 bytes.", "params": {"maxSize": 5242880}}),
    ("number", NUMBER, 2.5, ONLY_INT),
    ("number", NUMBER, 1, {"code": "validation_min_number_constraint", "message": "Must be greater or equal than 2.", "params": {"min": 2}}),
    ("number", NUMBER, 11, {"code": "validation_max_number_constraint", "message": "Must be less or equal than 10.", "params": {"max": 10}}),
    ("number", NUMBER, 0, None),  # zero skips min/max
    ("number", NUMBER, 1e20, ONLY_INT),  # beyond int64
    ("number", {"min": -1, "max": 100.25, "required": True}, 0, REQUIRED),
    ("number", {"min": -1, "max": 100.25}, -2, {"code": "validation_min_number_constraint", "message": "Must be greater or equal than -1.", "params": {"min": -1}}),
    ("number", {"min": -1, "max": 100.25}, 100.5, {"code": "validation_max_number_constraint", "message": "Must be less or equal than 100.25.", "params": {"max": 100.25}}),
    ("number", {"min": 1000000}, 5, {"code": "validation_min_number_constraint", "message": "Must be greater or equal than 1e+06.", "params": {"min": 1000000}}),
    ("number", {"min": 0.00001}, 0.000001, {"code": "validation_min_number_constraint", "message": "Must be greater or equal than 1e-05.", "params": {"min": 1e-05}}),
    ("number", {"min": 1234567.5}, 5, {"code": "validation_min_number_constraint", "message": "Must be greater or equal than 1.2345675e+06.", "params": {"min": 1234567.5}}),
    ("number", {"min": 123456.5}, 5, {"code": "validation_min_number_constraint", "message": "Must be greater or equal than 123456.5.", "params": {"min": 123456.5}}),
    ("number", {"max": -1e21}, 5, {"code": "validation_max_number_constraint", "message": "Must be less or equal than -1e+21.", "params": {"max": -1e21}}),
    ("number", {}, "Infinity", NOT_A_NUMBER),
    ("number", {}, "-inf", NOT_A_NUMBER),
    ("number", {}, "nan", NOT_A_NUMBER),
    ("bool", {"required": True}, False, REQUIRED),
    ("bool", {"required": True}, True, None),
    ("email", {"onlyDomains": ["ok.com"], "required": True}, "", REQUIRED),
    ("email", {"onlyDomains": ["ok.com"]}, "a@bad.com", EMAIL_DOMAIN),
    ("email", {"onlyDomains": ["ok.com"]}, "a@OK.com", EMAIL_DOMAIN),
    ("email", {"onlyDomains": ["ok.com"]}, "a@ok.com", None),
    ("email", {"exceptDomains": ["bad.com"]}, "a@bad.com", EMAIL_DOMAIN),
    ("email", {"exceptDomains": ["bad.com"]}, "a@good.com", None),
    ("email", {}, 123, IS_EMAIL),
    ("email", {}, "a@b", IS_EMAIL),
    ("url", {"onlyDomains": ["ok.com"]}, "http://bad.com", URL_DOMAIN),
    ("url", {"onlyDomains": ["ok.com"]}, "http://ok.com:80/x", URL_DOMAIN),
    ("url", {"onlyDomains": ["ok.com"]}, "ok.com", URL_DOMAIN),
    ("url", {"onlyDomains": ["ok.com"]}, "http://ok.com/x", None),
    ("url", {"exceptDomains": ["bad.com"]}, "https://bad.com", URL_DOMAIN),
    ("url", {"exceptDomains": ["bad.com"]}, "https://user@bad.com", URL_DOMAIN),
    ("url", {}, 123, INVALID_URL),
    ("date", DATE, "2023-12-31", min_date("2024-01-01T00:00:00Z", "2024-01-01 00:00:00 +0000 UTC")),
    ("date", DATE, "2025-01-01", max_date("2024-12-31T12:00:00.5Z", "2024-12-31 12:00:00.5 +0000 UTC")),
    ("date", DATE, "2024-12-31 12:00:00.6Z", max_date("2024-12-31T12:00:00.5Z", "2024-12-31 12:00:00.5 +0000 UTC")),
    ("date", DATE, "2024-12-31 12:00:00.5Z", None),
    ("date", DATE, "2024-01-01", None),
    ("date", DATE, "garbage", None),
    ("date", {"required": True}, "garbage", REQUIRED),
    ("autodate", {"onCreate": True}, "2020-01-01", None),
    ("select", {"values": ["a", "b", "c"], "required": True}, [], REQUIRED),
    ("select", {"values": ["a", "b"]}, "zz", {"code": "validation_invalid_value", "message": "Invalid value zz.", "params": {"value": "zz"}}),
    ("select", {"values": ["a", "b"]}, " a", {"code": "validation_invalid_value", "message": "Invalid value  a.", "params": {"value": " a"}}),
    ("select", {"values": ["a", "b"]}, "[1]", {"code": "validation_invalid_value", "message": "Invalid value [1].", "params": {"value": "[1]"}}),
    ("select", {"values": ["a", "b"]}, ["zz", "a"], None),
    ("select", {"values": list("abcd"), "maxSelect": 2}, ["a", "b", "c"], {"code": "validation_too_many_values", "message": "Select no more than 2.", "params": {"maxSelect": 2}}),
    ("select", {"values": list("abcd"), "maxSelect": 2}, ["a", "x", "b"], {"code": "validation_too_many_values", "message": "Select no more than 2.", "params": {"maxSelect": 2}}),
    ("select", {"values": list("abcd"), "maxSelect": 3}, ["a", "zz"], {"code": "validation_invalid_value", "message": "Invalid value zz.", "params": {"value": "zz"}}),
    ("select", {"values": list("abcd"), "maxSelect": 3}, [1.5], {"code": "validation_invalid_value", "message": "Invalid value 1.5.", "params": {"value": "1.5"}}),
    ("json", {"maxSize": 20, "required": True}, "x" * 30, {"code": "validation_json_size_limit", "message": "The maximum allowed JSON size is 20 bytes.", "params": {"maxSize": 20}}),
    ("json", {"maxSize": 12}, "abcdefghij", None),
    ("json", {"maxSize": 12}, "abcdefghijk", {"code": "validation_json_size_limit", "message": "The maximum allowed JSON size is 12 bytes.", "params": {"maxSize": 12}}),
    ("json", {"maxSize": 12}, "äbcdefghi", None),
    ("json", {"maxSize": 12}, {"a": "<>"}, None),
    ("json", {"maxSize": 12}, {"a": "\u2028\u2028"}, {"code": "validation_json_size_limit", "message": "The maximum allowed JSON size is 12 bytes.", "params": {"maxSize": 12}}),
    ("json", {}, "x" * (1 << 20), {"code": "validation_json_size_limit", "message": "The maximum allowed JSON size is 1048576 bytes.", "params": {"maxSize": 1048576}}),
    ("json", {}, "x" * ((1 << 20) - 2), None),
    ("json", {"required": True}, [], REQUIRED),
    ("json", {"required": True}, {}, REQUIRED),
    ("json", {"required": True}, "", REQUIRED),
    ("json", {"required": True}, "null", REQUIRED),
    ("json", {"required": True}, 0, None),
    ("json", {"required": True}, False, None),
    ("json", {}, "a\x01b", INVALID_JSON),
    ("json", {}, "a\x7fb", INVALID_JSON),
    ("json", {}, "a\x07", INVALID_JSON),
    ("json", {}, "a\x0bb", INVALID_JSON),
    ("json", {}, '{"a":"x\x01"}', INVALID_JSON),
    ("json", {}, ["x\x01"], None),
    ("relation", {"collectionId": "c", "minSelect": 2, "maxSelect": 3}, ["a"], {"code": "validation_not_enough_values", "message": "Select at least 2.", "params": {"minSelect": 2}}),
    ("relation", {"collectionId": "c", "minSelect": 2, "maxSelect": 3}, ["a", "b", "c", "d"], {"code": "validation_too_many_values", "message": "Select no more than 3.", "params": {"maxSelect": 3}}),
    ("relation", {"collectionId": "c", "minSelect": 2, "maxSelect": 3}, ["a", "a", "b"], None),
    ("relation", {"collectionId": "c", "required": True}, [], REQUIRED),
    ("file", {"maxSelect": 2, "required": True}, [], REQUIRED),
    ("file", {"maxSelect": 2}, [Upload("a"), Upload("b"), Upload("c")], {"code": "validation_too_many_files", "message": "The maximum allowed files is 2.", "params": {"maxSelect": 2}}),
    ("file", {"maxSelect": 2}, [Upload("a"), Upload("a"), Upload("c")], None),
    ("password", {"min": 3, "max": 6, "pattern": "^[0-9]+$", "required": True}, "", REQUIRED),
    ("password", {"min": 3, "max": 6}, "12", {"code": "validation_min_text_constraint", "message": "Must be at least 3 character(s)."}),
    ("password", {"min": 3, "max": 6}, "1234567", {"code": "validation_max_text_constraint", "message": "Must be less than 6 character(s)."}),
    ("password", {"pattern": "^[0-9]+$"}, "abc", INVALID_FORMAT),
    ("password", {}, "x" * 72, {"code": "validation_max_text_constraint", "message": "Must be less than 71 character(s)."}),
    ("password", {}, "x" * 71, None),
    ("password", {}, "é" * 40, {"code": "validation_invalid_value", "message": "Invalid value."}),
    ("password", {}, "é" * 36, None),
    ("password", {}, "short", None),
    ("geoPoint", {"required": True}, {"lon": 0, "lat": 0}, REQUIRED),
    ("geoPoint", {}, {"lon": 200, "lat": 0}, LONGITUDE),
    ("geoPoint", {}, {"lon": 0, "lat": 100}, LATITUDE),
    ("geoPoint", {}, {"lon": 200, "lat": 100}, LATITUDE),
    ("geoPoint", {}, {"lon": 1.5e300, "lat": -90}, LONGITUDE),
    ("geoPoint", {}, {"lon": -180, "lat": 90}, None),
    ("geoPoint", {}, {"lon": -180.0001, "lat": 0}, LONGITUDE),
    ("geoPoint", {}, {"lon": 12345678901234567890, "lat": 0}, LONGITUDE),
]


@pytest.mark.parametrize(("ftype", "options", "value", "expected"), VALIDATE, ids=short)
def test_validate(ftype: str, options: dict[str, Any], value: Any, expected: dict[str, Any] | None) -> None:
    assert check(ftype, value, **options)[1] == expected


def test_validate_primary_key() -> None:
    pk = ALL_FIELDS[0]
    assert err(T["text"].validate(pk, "a/b")) == {"code": "validation_min_text_constraint", "message": "Must be at least 15 character(s).", "params": {"min": 15}}
    assert err(T["text"].validate(pk, "abcdefghijklm/o")) == INVALID_FORMAT
    assert err(T["text"].validate(pk, "")) == REQUIRED
    assert T["text"].validate(pk, "abcdefghijklmno") is None
    loose = field("text", name="id", primaryKey=True, required=True, pattern=".*")
    assert err(T["text"].validate(loose, "a/b")) == {"code": "validation_forbidden_pk_character", "message": "'/' is not a valid primary key character.", "params": {"ch": "/"}}
    assert err(T["text"].validate(loose, "a\\b")) == {"code": "validation_forbidden_pk_character", "message": "'\\' is not a valid primary key character.", "params": {"ch": "\\"}}


# =========================================================================== storage


ROUND_TRIPS = [
    ("text", {}, "héllo", "héllo", "héllo"),
    ("number", {}, 10.0, 10, 10),
    ("number", {}, 1.5, 1.5, 1.5),
    ("number", {}, -3, -3, -3),
    ("number", {}, 1e20, 1e20, 100000000000000000000),
    ("bool", {}, True, 1, True),
    ("bool", {}, False, 0, False),
    ("date", {}, "2024-05-06 10:11:12.123Z", "2024-05-06 10:11:12.123Z", "2024-05-06 10:11:12.123Z"),
    ("select", {"values": ["a", "b"], "maxSelect": 2}, ["a", "b"], '["a","b"]', ["a", "b"]),
    ("select", {"values": ["a"]}, "a", "a", "a"),
    ("relation", {"collectionId": "c", "maxSelect": 5}, [], "[]", []),
    ("json", {}, {"a": [1, "é"]}, '{"a":[1,"é"]}', {"a": [1, "é"]}),
    ("json", {}, None, None, None),
    ("json", {}, "", '""', ""),
    ("json", {}, 12345678901234567890123, "12345678901234567890123", 12345678901234567890123),
    ("geoPoint", {}, {"lon": 1.5, "lat": 2}, '{"lon":1.5,"lat":2}', {"lon": 1.5, "lat": 2}),
    ("password", {}, "$2a$10$hash", "$2a$10$hash", "$2a$10$hash"),
]


@pytest.mark.parametrize(("ftype", "options", "value", "stored", "loaded"), ROUND_TRIPS, ids=short)
def test_to_db_from_db(ftype: str, options: dict[str, Any], value: Any, stored: Any, loaded: Any) -> None:
    f = field(ftype, **options)
    assert T[ftype].to_db(f, value) == stored
    assert T[ftype].from_db(f, stored) == loaded


FROM_DB = [
    # SQLite's column affinities hand back numbers for NUMERIC/JSON columns
    ("json", {}, 1, 1),
    ("json", {}, 1e-07, 1e-07),
    ("json", {}, 1.2345678901234567e19, 12345678901234567000),
    ("json", {}, "not json", "not json"),
    ("number", {}, None, 0),
    ("number", {}, "12", 12),
    ("number", {}, 3.0, 3),
    ("bool", {}, "1", True),
    ("bool", {}, None, False),
    ("text", {}, None, ""),
    ("date", {}, None, ""),
    ("date", {}, "2024-05-06", "2024-05-06 00:00:00.000Z"),
    ("select", {"values": ["a"], "maxSelect": 2}, "a", ["a"]),  # was single before
    ("select", {"values": ["a"], "maxSelect": 2}, None, []),
    ("select", {"values": ["a"]}, '["a","b"]', "b"),  # was multiple before
    ("geoPoint", {}, None, {"lon": 0, "lat": 0}),
    ("geoPoint", {}, '{"lon":1,"lat":2}', {"lon": 1, "lat": 2}),
]


@pytest.mark.parametrize(("ftype", "options", "raw", "loaded"), FROM_DB, ids=short)
def test_from_db(ftype: str, options: dict[str, Any], raw: Any, loaded: Any) -> None:
    assert T[ftype].from_db(field(ftype, **options), raw) == loaded


def test_invalid_json_is_never_stored() -> None:
    value = T["json"].normalize(field("json"), "a\x01")
    assert isinstance(value, InvalidJSON)
    with pytest.raises(ValueError):
        T["json"].to_db(field("json"), value)


# =========================================================================== option checks

THRESHOLD_MIN = "validation_min_greater_equal_than_required"
THRESHOLD_MAX = "validation_max_less_equal_than_required"
EMPTY = {"code": "validation_empty", "message": "Must be blank."}
DOMAIN = {"code": "validation_is_domain", "message": "Must be a valid domain."}


def no_less(n: int) -> dict[str, Any]:
    return {"code": THRESHOLD_MIN, "message": f"Must be no less than {n}.", "params": {"threshold": n}}


def no_greater(n: int) -> dict[str, Any]:
    return {"code": THRESHOLD_MAX, "message": f"Must be no greater than {n}.", "params": {"threshold": n}}


def regex(message: str) -> dict[str, Any]:
    return {"code": "validation_invalid_regex", "message": message}


EITHER = {"code": "validation_required", "message": "Either onCreate or onUpdate must be enabled."}

CHECK_OPTIONS = [
    ({"type": "text", "min": -1}, {"min": no_less(0)}),
    ({"type": "text", "min": 5, "max": 3}, {"max": no_less(5)}),
    ({"type": "text", "max": -1}, {"max": no_less(0)}),
    ({"type": "text", "min": 2**53}, {"min": no_greater(2**53 - 1)}),
    ({"type": "text", "max": 2**53}, {"max": no_greater(2**53 - 1)}),
    ({"type": "text", "min": 3, "max": 0}, {}),
    ({"type": "text", "hidden": True, "required": True, "min": -1, "max": -2}, {"max": no_less(-1), "min": no_less(0)}),
    ({"type": "text", "pattern": "[a-"}, {"pattern": regex("Error parsing regexp: missing closing ]: `[a-`.")}),
    ({"type": "text", "pattern": "(?<n>a)"}, {}),
    ({"type": "text", "autogeneratePattern": "[a-"}, {"autogeneratePattern": regex("Error parsing regexp: missing closing ]: `[a-`.")}),
    ({"type": "text", "autogeneratePattern": "^[a-z]{3}$"}, {"autogeneratePattern": {"code": "validation_invalid_autogenerate_pattern", "message": "Unsupported pattern operator 9."}}),
    ({"type": "text", "autogeneratePattern": "\\bx"}, {"autogeneratePattern": {"code": "validation_invalid_autogenerate_pattern", "message": "Unsupported pattern operator 11."}}),
    ({"type": "text", "autogeneratePattern": "a|"}, {"autogeneratePattern": {"code": "validation_invalid_autogenerate_pattern", "message": "Unsupported pattern operator 2."}}),
    ({"type": "text", "autogeneratePattern": "[^\\x00-\\x{10FFFF}]"}, {"autogeneratePattern": {"code": "validation_invalid_autogenerate_pattern", "message": "No runes to choose from."}}),
    ({"type": "text", "autogeneratePattern": "a*"}, {}),
    ({"type": "text", "autogeneratePattern": "a?", "min": 1}, {}),
    ({"type": "text", "autogeneratePattern": "<uuidv7>"}, {}),
    ({"type": "text", "primaryKey": True}, {
        "name": {"code": "validation_in_invalid", "message": 'The primary key must be named "id".'},
        "pattern": REQUIRED,
        "required": REQUIRED,
    }),
    ({"type": "editor", "maxSize": -1}, {"maxSize": no_less(0)}),
    ({"type": "editor", "maxSize": 2**53}, {"maxSize": no_greater(2**53 - 1)}),
    ({"type": "number", "min": 5, "max": 3}, {"max": {"code": "validation_min_number_constraint", "message": "Must be greater or equal than 5.", "params": {"min": 5}}}),
    ({"type": "number", "min": 5, "max": 0}, {"max": {"code": "validation_min_number_constraint", "message": "Must be greater or equal than 5.", "params": {"min": 5}}}),
    ({"type": "number", "max": 2.5, "onlyInt": True}, {"max": ONLY_INT}),
    ({"type": "number", "min": 1.5, "max": 1.2, "onlyInt": True}, {"max": ONLY_INT, "min": ONLY_INT}),
    ({"type": "number", "min": 0.5, "max": 0, "onlyInt": True}, {"max": {"code": "validation_min_number_constraint", "message": "Must be greater or equal than 0.5.", "params": {"min": 0.5}}, "min": ONLY_INT}),
    ({"type": "number", "min": 5, "max": None}, {}),
    ({"type": "number", "min": 1.5, "max": 1.5}, {}),
    ({"type": "email", "onlyDomains": ["a.com"], "exceptDomains": ["b.com"]}, {"exceptDomains": EMPTY, "onlyDomains": EMPTY}),
    ({"type": "email", "onlyDomains": ["not a domain", "ok.com", "-x.com"]}, {"onlyDomains": {"0": DOMAIN, "2": DOMAIN}}),
    ({"type": "email", "exceptDomains": ["x"]}, {"exceptDomains": {"0": DOMAIN}}),
    ({"type": "email", "onlyDomains": ["OK.com"]}, {"onlyDomains": {"0": DOMAIN}}),
    ({"type": "email", "onlyDomains": ["a.xn--p1ai"]}, {"onlyDomains": {"0": DOMAIN}}),
    ({"type": "email", "onlyDomains": ["a. xn--p1ai", "a.b.c.d.com", "", "aBc.com", "ab.COM", "A.com", "a-B1.com", "x.Com"]}, {}),
    ({"type": "email", "onlyDomains": ["aB.com", "a. XN--P1AI", "a. xn--P1AI"]}, {"onlyDomains": {"0": DOMAIN, "1": DOMAIN, "2": DOMAIN}}),
    ({"type": "url", "onlyDomains": ["http://a.com"]}, {"onlyDomains": {"0": DOMAIN}}),
    ({"type": "url", "onlyDomains": ["a.com"], "exceptDomains": ["b.com"]}, {"exceptDomains": EMPTY, "onlyDomains": EMPTY}),
    ({"type": "date", "min": "2025-01-01", "max": "2024-01-01"}, {}),
    ({"type": "autodate"}, {"onCreate": EITHER, "onUpdate": EITHER}),
    ({"type": "autodate", "onUpdate": True}, {}),
    ({"type": "select", "values": []}, {"values": REQUIRED}),
    ({"type": "select", "values": ["a"], "maxSelect": 2}, {"maxSelect": no_greater(1)}),
    ({"type": "select", "values": ["a", "b"], "maxSelect": -1}, {"maxSelect": no_less(0)}),
    ({"type": "select", "values": [], "maxSelect": 2}, {"maxSelect": no_greater(1), "values": REQUIRED}),
    ({"type": "select", "values": ["a", "a"], "maxSelect": 2}, {}),
    ({"type": "json", "maxSize": -1}, {"maxSize": no_less(0)}),
    ({"type": "relation"}, {"collectionId": REQUIRED}),
    ({"type": "relation", "collectionId": "c", "minSelect": -1}, {"minSelect": no_less(0)}),
    ({"type": "relation", "collectionId": "c", "minSelect": 3, "maxSelect": 2}, {"maxSelect": no_less(3)}),
    ({"type": "relation", "collectionId": "c", "minSelect": 2}, {"maxSelect": REQUIRED}),
    ({"type": "relation", "collectionId": "c", "maxSelect": -1}, {"maxSelect": no_less(0)}),
    ({"type": "file", "maxSelect": -1}, {"maxSelect": no_less(0)}),
    ({"type": "file", "maxSize": 2**53}, {"maxSize": no_greater(2**53 - 1)}),
    ({"type": "file", "thumbs": ["0x0", "100x100", "bad", "100x100z", "0x50", "50x0f", "10x10t", ""]}, {"thumbs": {
        "0": {"code": "validation_not_in_invalid", "message": "Must not be in list."},
        "2": {"code": "validation_match_invalid", "message": "Must be in a valid format."},
        "3": {"code": "validation_match_invalid", "message": "Must be in a valid format."},
    }}),
    ({"type": "file", "mimeTypes": ["bogus", ""]}, {}),
    ({"type": "password", "min": -1}, {"min": no_less(1)}),
    ({"type": "password", "min": 72}, {"min": no_greater(71)}),
    ({"type": "password", "max": 72}, {"max": no_greater(71)}),
    ({"type": "password", "min": 10, "max": 5}, {"max": no_less(10)}),
    ({"type": "password", "cost": 3}, {"cost": no_less(4)}),
    ({"type": "password", "cost": 32}, {"cost": no_greater(31)}),
    ({"type": "password", "pattern": "("}, {"pattern": regex("Error parsing regexp: missing closing ): `(`.")}),
    ({"type": "geoPoint"}, {}),
    ({"type": "bool"}, {}),
]


@pytest.mark.parametrize(("posted", "expected"), CHECK_OPTIONS, ids=short)
def test_check_options(posted: dict[str, Any], expected: dict[str, Any]) -> None:
    f = complete_field({"name": "x", **posted}, T)
    assert _error_data(T[f["type"]].check_options(f)) == expected


def test_autogenerate_pattern_that_breaks_the_field_rules() -> None:
    f = field("text", autogeneratePattern="[a-z]{3}", max=2)
    problem = T["text"].check_options(f)["autogeneratePattern"]
    assert problem.code == "validation_invalid_autogenerate_pattern_value"
    assert re.fullmatch(r'The provided autogenerate pattern could produce invalid field values, ex\.: "[a-z]{3}"\.', problem.message)


# =========================================================================== Go regexp

REGEX_ERRORS = [
    ("a{1001}", "invalid repeat count: `{1001}`"),
    ("a**", "invalid nested repetition operator: `**`"),
    ("a*??", "invalid nested repetition operator: `*??`"),
    ("x{2}{3}", "invalid nested repetition operator: `{2}{3}`"),
    ("a{2,1}", "invalid repeat count: `{2,1}`"),
    ("(a{100}){20}", "invalid repeat count: `{20}`"),
    ("\\1", "invalid escape sequence: `\\1`"),
    ("\\8", "invalid escape sequence: `\\8`"),
    ("\\q", "invalid escape sequence: `\\q`"),
    ("\\C", "invalid escape sequence: `\\C`"),
    ("\\é", "invalid escape sequence: `\\é`"),
    ("\\x4", "invalid escape sequence: `\\x4`"),
    ("\\x{110000}", "invalid escape sequence: `\\x{110000`"),
    ("\\x{}", "invalid escape sequence: `\\x{}`"),
    ("[\\b]", "invalid escape sequence: `\\b`"),
    ("[a-\\d]", "invalid escape sequence: `\\d`"),
    ("\\", "trailing backslash at end of expression: ``"),
    ("(?=a)", "invalid or unsupported Perl syntax: `(?=`"),
    ("(?P=x)", "invalid or unsupported Perl syntax: `(?P`"),
    ("(?i", "invalid or unsupported Perl syntax: `(?i`"),
    ("(?i-)", "invalid or unsupported Perl syntax: `(?i-)`"),
    ("(?<=a)", "invalid named capture: `(?<=a)`"),
    ("(?P<>a)", "invalid named capture: `(?P<>`"),
    ("(?P<a-b>x)", "invalid named capture: `(?P<a-b>`"),
    ("[z-a]", "invalid character class range: `z-a`"),
    ("[[:foo:]]", "invalid character class range: `[:foo:]`"),
    ("\\p", "invalid character class range: `\\p`"),
    ("\\p{Foo}", "invalid character class range: `\\p{Foo}`"),
    ("a)", "unexpected ): `a)`"),
    ("(a", "missing closing ): `(a`"),
    ("*a", "missing argument to repetition operator: `*`"),
    ("[a-", "missing closing ]: `[a-`"),
]


@pytest.mark.parametrize(("pattern", "message"), REGEX_ERRORS)
def test_go_regex_errors(pattern: str, message: str) -> None:
    assert go_regex_error(pattern) == f"error parsing regexp: {message}"


@pytest.mark.parametrize(
    "pattern",
    ["a{01}", "\\12", "a{,5}", "[]a]", "[[:^alpha:]]", "\\pN", "\\p{Greek}", "(?<n>a)", "(?P<n>a)", "\\Qa.b\\E", "(?i)ab", "x{0}", "a*?"],
)
def test_go_regex_accepts(pattern: str) -> None:
    assert go_regex_error(pattern) is None


@pytest.mark.parametrize(
    ("pattern", "value", "matches"),
    [
        ("^[a-z]+$", "abc", True),
        ("^[a-z]+$", "abc\n", False),
        ("(?m)^b$", "a\nb\nc", True),
        ("\\d", "٣", False),
        ("\\w", "é", False),
        ("\\s", "\v", False),
        ("\\bé", " é", False),
        ("(?i)straße", "STRASSE", False),
        ("(?i)k", "\u212a", True),
        ("a.c", "a\nc", False),
        ("(?s)a.c", "a\nc", True),
        ("a{01}", "a{01}", True),
        ("\\Qa.b\\E", "axb", False),
        ("[[:alpha:]]+", "abc", True),
        ("\\pL", "é", True),
        ("\\p{Greek}", "λ", True),
        ("\\p{Greek}", "l", False),
        ("x\\z", "x", True),
        ("b", "abc", True),
    ],
)
def test_go_regex_match(pattern: str, value: str, matches: bool) -> None:
    assert go_regex_match(pattern, value) is matches


def test_generate_from_pattern() -> None:
    assert re.fullmatch("[a-z0-9]{15}", generate_from_pattern("[a-z0-9]{15}"))
    assert re.fullmatch("[a-zA-Z0-9]{50}", generate_from_pattern("[a-zA-Z0-9]{50}"))
    assert re.fullmatch(r"ab-[0-9]{3}(x|yz)", generate_from_pattern(r"ab-\d{3}(x|yz)"))
    # PocketBase's quirks: counts are drawn from [min, max), `?` never repeats, * and + up to 5
    lengths = Counter(len(generate_from_pattern("[a-z]{2,4}")) for _ in range(200))
    assert set(lengths) == {2, 3}
    assert {generate_from_pattern("xa?") for _ in range(50)} == {"x"}
    assert max(len(generate_from_pattern("b*")) for _ in range(300)) == 5
    assert min(len(generate_from_pattern("c+")) for _ in range(300)) == 1
    # case folding: literals become their smallest case variant, [Aa] is one literal
    assert generate_from_pattern("(?i)ab") == "AB"
    assert generate_from_pattern("[aA]{5}") == "AAAAA"
    assert generate_from_pattern("(?i)k{3}") == "KKK"
    assert set("".join(generate_from_pattern("(?i)[a-c]{8}") for _ in range(20))) == set("abcABC")
    assert re.fullmatch("[A-Za-z0-9]{5}", generate_from_pattern(".{5}"))
    assert generate_from_pattern("<uuidv7>") == "<uuidv7>"
    assert all(not ("a" <= c <= "z") for c in generate_from_pattern("[^a-z]{20}"))
    for pattern, op in (("^x", 9), ("x$", 10), ("\\bx", 11), ("(?:)", 2)):
        with pytest.raises(ValueError, match=f"unsupported pattern operator {op}"):
            generate_from_pattern(pattern)
    assert T["text"].autogenerate(field("text")) is None
    assert len(T["text"].autogenerate(ALL_FIELDS[0]) or "") == 15


# =========================================================================== formats

URLS_VALID = [
    "example.com", "http://x", "https://example.com/p?q=1", "ftp://x.org", "http://localhost:8090",
    "mailto:a@b.co", "http://127.0.0.1", "http://ex_ample.com", "https://ünïcode.de",
    "http://example.com:99999", "ws://x.com", "tcp://x.com", "wss://a.io", "http://EXAMPLE.com",
    "http://[::1]:80", "http://[::1]", "http://a_b.com", "http://example.com.", "http://www.ex.com",
    "udp://1.1.1.1", "http://a", "http://user:pw@x.com/p", "x.com:8080", "http://a-b--c.com",
    "http://ünï.de/ä", "http://x.com/path?q#f",
]
URLS_INVALID = [
    "javascript:alert(1)", "http://", "http://exa mple.com", "HTTPS://EXAMPLE.COM", "//example.com",
    "http://a.b.c/", "x://y.z", "http://1.2.3.256", "http://224.1.1.1", "http://-a.com",
    "http://a-.com", "abc", "a.b", "ab", "http://x.com/%zz", "http://x.com:abc", "http://x.com:",
    "http://x.com/a b", "http://x.com?q= 1", "http://x.com#f g", ".x.com", "http://.x.com", "a:1",
    "http://x.com:123456", "http://x..com", "http://a.b-c.d", "http://a.b_c.de", "http://x.com/\t",
    "http://x.com\\a", "http://x.c0m", "http://1.1.1", "file:///etc/passwd", "http:/x.com",
    "http://x%41.com", "http://x.com/" + "a" * 2100,
]
EMAILS_VALID = ["A@B.co", "a@b.c", '"a"@b.co', "a+b@c.co", "ä@ö.de"]
EMAILS_INVALID = [
    "a@b", "not-an-email", "a b@c.co", " a@b.co", "a@b.co ", "a@@b.co", "a@b..co", "a@-b.co",
    "a@localhost", "a@[127.0.0.1]", "a@1.2.3.4", "a@b.co\n",
]


def test_url_and_email_formats() -> None:
    assert [u for u in URLS_VALID if not is_url(u)] == []
    assert [u for u in URLS_INVALID if is_url(u)] == []
    assert [e for e in EMAILS_VALID if not is_email(e)] == []
    assert [e for e in EMAILS_INVALID if is_email(e)] == []


def test_hostile_inputs_stay_fast() -> None:
    start = time.perf_counter()
    for value in ("http://" + "a" * 2000 + "!", "http://" + "a." * 1000 + "!", "http://" + "a-" * 1000 + "!", "http://" + "@" * 2000):
        assert not is_url(value)
    assert not is_email("a@" + "a." * 5000 + "!")
    assert not is_email("a" * 5000 + "@")
    assert time.perf_counter() - start < 3


@pytest.mark.parametrize(
    ("value", "text"),
    [(1000000.0, "1e+06"), (100000.0, "100000"), (123456.5, "123456.5"), (1234567.5, "1.2345675e+06"), (1e-05, "1e-05"), (0.0001, "0.0001"), (-0.5, "-0.5"), (1e21, "1e+21"), (2.0, "2"), (1000000, "1000000")],
)
def test_go_sprint(value: Any, text: str) -> None:
    assert go_sprint(value) == text  # float64 as fmt's %v prints it; Go ints print plainly


def test_parse_datetime_is_exported_for_options() -> None:
    assert parse_datetime("2024-01-01") == "2024-01-01 00:00:00.000Z"


# =========================================================================== differential

DIFF_FIELDS = [
    {"name": "t", "type": "text", "min": 2, "max": 5, "pattern": "^[a-z]+$"},
    {"name": "t0", "type": "text"},
    {"name": "tg", "type": "text", "autogeneratePattern": "[a-z]{4}x?"},
    {"name": "e", "type": "editor", "maxSize": 10},
    {"name": "n", "type": "number", "min": -5, "max": 100.5},
    {"name": "n2", "type": "number", "min": 2},
    {"name": "ni", "type": "number", "onlyInt": True},
    {"name": "b", "type": "bool"},
    {"name": "em", "type": "email", "onlyDomains": ["ok.com"]},
    {"name": "em2", "type": "email", "exceptDomains": ["bad.com"]},
    {"name": "u", "type": "url", "onlyDomains": ["ok.com"]},
    {"name": "u2", "type": "url"},
    {"name": "d", "type": "date", "min": "2024-01-01", "max": "2024-12-31 12:00:00.5Z"},
    {"name": "d0", "type": "date"},
    {"name": "s", "type": "select", "values": ["a", "b", "c"]},
    {"name": "ms", "type": "select", "values": ["a", "b", "c", "d"], "maxSelect": 2},
    {"name": "j", "type": "json", "maxSize": 30},
    {"name": "r", "type": "relation", "collectionId": "_pb_users_auth_", "minSelect": 2, "maxSelect": 3},
    {"name": "r1", "type": "relation", "collectionId": "_pb_users_auth_"},
    {"name": "mf", "type": "file", "maxSelect": 2},
    {"name": "pw", "type": "password", "min": 3, "max": 6, "pattern": "^[0-9]+$"},
    {"name": "g", "type": "geoPoint"},
]
REQ_FIELDS = [
    {"name": name, "type": ftype, "required": True, **extra}
    for name, ftype, extra in (
        ("t", "text", {}), ("e", "editor", {}), ("n", "number", {}), ("b", "bool", {}),
        ("em", "email", {}), ("u", "url", {}), ("d", "date", {}), ("s", "select", {"values": ["a"]}),
        ("ms", "select", {"values": ["a", "b"], "maxSelect": 2}), ("j", "json", {}),
        ("r", "relation", {"collectionId": "_pb_users_auth_"}), ("pw", "password", {}), ("g", "geoPoint", {}),
    )
]
U1, U2, U3, U4 = "{u1}", "{u2}", "{u3}", "{u4}"  # replaced by real user ids
DIFF_CASES: list[tuple[str, str, Any]] = [
    ("diff", "t", "ab"), ("diff", "t", "a"), ("diff", "t", "abcdef"), ("diff", "t", "ABC"),
    ("diff", "t", 123), ("diff", "t", True), ("diff", "t", ["x"]), ("diff", "t", None),
    ("diff", "t0", 1.5), ("diff", "t0", 1e21), ("diff", "t0", 12345678901234567890), ("diff", "t0", "x" * 5001),
    ("diff", "t0", "ü" * 5000), ("diff", "t0", -0.0), ("diff", "t0", 1e-7),
    ("diff", "e", "x" * 11), ("diff", "e", "é" * 5), ("diff", "e", "é" * 6),
    ("diff", "n", "12"), ("diff", "n", "abc"), ("diff", "n", True), ("diff", "n", "1e3"), ("diff", "n", -6),
    ("diff", "n", 101), ("diff", "n", 100.5), ("diff", "n", "Infinity"), ("diff", "n", "0x1p4"),
    ("diff", "n", "1_000"), ("diff", "n", "5."), ("diff", "n", " 12 "), ("diff", "n2", 0), ("diff", "n2", 1),
    ("diff", "ni", 2.5), ("diff", "ni", 1e20), ("diff", "ni", "7"), ("diff", "ni", -9.0),
    ("diff", "b", "1"), ("diff", "b", "yes"), ("diff", "b", "t"), ("diff", "b", 2), ("diff", "b", 0.5),
    ("diff", "b", None), ("diff", "b", []), ("diff", "b", "FALSE"),
    ("diff", "em", "a@ok.com"), ("diff", "em", "a@OK.com"), ("diff", "em", "bad"), ("diff", "em", "a@b"),
    ("diff", "em", 123), ("diff", "em2", "x@bad.com"), ("diff", "em2", "x@good.com"), ("diff", "em2", '"q"@b.co'),
    ("diff", "em2", "a@b..co"), ("diff", "em2", "ä@ö.de"),
    ("diff", "u", "http://ok.com/x"), ("diff", "u", "http://ok.com:80"), ("diff", "u", "ok.com"),
    ("diff", "u", "https://user@ok.com"), ("diff", "u", "nope"),
    ("diff", "u2", "mailto:a@b.co"), ("diff", "u2", "ws://x.com"), ("diff", "u2", "http://1.2.3.256"),
    ("diff", "u2", "http://a.b_c.de"), ("diff", "u2", "http://ab.cd.ef.com"), ("diff", "u2", "http://[::1]:80"),
    ("diff", "u2", "x.com:8080"), ("diff", "u2", "HTTPS://EXAMPLE.COM"), ("diff", "u2", "http://x.com/%zz"),
    ("diff", "u2", "http://x.com?q=%zz"), ("diff", "u2", "http://a1.b2.c3"), ("diff", "u2", "http://sub.example.co.uk/x"),
    ("diff", "u2", "http://a.b.c/"), ("diff", "u2", "http://ab.c"), ("diff", "u2", "http://a.bc.d"),
    ("diff", "u2", "http://a--b.com"), ("diff", "u2", "http://a---b.com"), ("diff", "u2", "http://x.com:0"),
    ("diff", "u2", "http://ä@x.com"), ("diff", "u2", "http://[fe80::1%25en0]/"),
    ("diff", "d", "2023-12-31"), ("diff", "d", "2025-01-01"), ("diff", "d", "2024-06-01T10:00:00+02:00"),
    ("diff", "d", "garbage"), ("diff", "d", "2024-12-31 12:00:00.5Z"),
    ("diff", "d0", "Mon, 06 May 2024 10:11:12 GMT+3"), ("diff", "d0", "3:04PM"), ("diff", "d0", "2024-05-06 10:11:12,5"),
    ("diff", "d0", "06 May 70 10:11 +0130"), ("diff", "d0", 1715000000), ("diff", "d0", "2024-02-30"),
    ("diff", "d0", "Mon Jan  2 15:04:05 MST 2006"), ("diff", "d0", "2024-05-06T10:11:12-0330"),
    ("diff", "s", ["a", "b"]), ("diff", "s", "zz"), ("diff", "s", '["c"]'), ("diff", "s", 1), ("diff", "s", ["", "a"]),
    ("diff", "s", {"x": 1}), ("diff", "s", "zz."), ("diff", "s", " zz\n"), ("diff", "s", "zz?"),
    ("diff", "ms", ["a", "a", "b"]), ("diff", "ms", ["a", "b", "c"]), ("diff", "ms", ["a", "zz"]),
    ("diff", "ms", '["zz", 1]'), ("diff", "ms", '[1, "zz"]'), ("diff", "ms", "a"), ("diff", "ms", [1, True]),
    ("diff", "j", "abc"), ("diff", "j", "[1,2]"), ("diff", "j", '{"b":2,"a":1}'), ("diff", "j", {"b": 1, "a": [1.5, 2.0]}),
    ("diff", "j", "x" * 40), ("diff", "j", "a\x01b"), ("diff", "j", 1.0), ("diff", "j", "null"), ("diff", "j", "1e5"),
    ("diff", "j", "  [1]"), ("diff", "j", 1e21), ("diff", "j", ""), ("diff", "j", {"k": "<>&"}),
    ("diff", "r", [U1]), ("diff", "r", [U1, U2, U3, U4]), ("diff", "r", [U1, U2]), ("diff", "r", [U1, U1, U2]),
    ("diff", "r1", [U1, U2]), ("diff", "r1", U1),
    ("diff", "pw", "12"), ("diff", "pw", "1234567"), ("diff", "pw", "abc"), ("diff", "pw", "é" * 40),
    ("diff", "g", {"lon": 1, "lat": 2}), ("diff", "g", {"lon": 200, "lat": 0}), ("diff", "g", {"lon": 200, "lat": 100}),
    ("diff", "g", '{"lon":5,"Lat":6}'), ("diff", "g", "garbage"), ("diff", "g", {"lat": 2}), ("diff", "g", {"lon": 1.5, "lat": -90}),
    ("diff", "g", '{"lon":true,"lat":1}'),
    ("req", "t", ""), ("req", "e", ""), ("req", "n", 0), ("req", "n", "0"), ("req", "b", False), ("req", "b", "yes"),
    ("req", "em", ""), ("req", "u", ""), ("req", "d", "garbage"), ("req", "s", []), ("req", "ms", []),
    ("req", "j", []), ("req", "j", {}), ("req", "j", ""), ("req", "j", "null"), ("req", "j", 0), ("req", "j", False),
    ("req", "r", []), ("req", "pw", ""), ("req", "g", {"lon": 0, "lat": 0}), ("req", "g", {"lon": 0, "lat": 1}),
]
DIFF_BAD_FIELDS = [
    {"type": "text", "min": 5, "max": 3},
    {"type": "text", "pattern": "(?=x)"},
    {"type": "text", "pattern": "a{01}"},
    {"type": "text", "autogeneratePattern": "^x"},
    {"type": "number", "min": 5, "max": 0},
    {"type": "number", "min": 1.5, "onlyInt": True},
    {"type": "email", "onlyDomains": ["ok.com", "Bad.com"]},
    {"type": "url", "onlyDomains": ["a.com"], "exceptDomains": ["b.com"]},
    {"type": "autodate"},
    {"type": "select", "values": ["a"], "maxSelect": 2},
    {"type": "relation", "collectionId": "_pb_users_auth_", "minSelect": 2},
    {"type": "file", "thumbs": ["0x0", "10x10", "nope"], "maxSize": -1},
    {"type": "password", "min": 72, "cost": 3},
    {"type": "json", "maxSize": -5},
    {"type": "editor", "maxSize": 7, "convertURLs": True},
    {"type": "date", "min": "2024-01-01T10:00:00+02:00", "max": "nope"},
    {"type": "number", "min": 1e21, "max": None, "onlyInt": False},
]


@pytest.fixture(scope="module")
def pocketbase(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    data = tmp_path_factory.mktemp("pocketbase") / "pb_data"
    pocketbase_superuser(data, "a@b.co", "1234567890")
    server = start_pocketbase(data, env={"TZ": "UTC"})
    try:
        client = httpx.Client(base_url=server.url, timeout=30)
        client.headers["Authorization"] = superuser_token(server.url, "a@b.co", "1234567890")
        yield client
    finally:
        server.stop()


def _create_collection(client: httpx.Client, name: str, fields: list[dict[str, Any]]) -> dict[str, Any]:
    response = client.post("/api/collections", json={"name": name, "type": "base", "fields": fields})
    assert response.status_code == 200, response.text
    return response.json()


def _substitute(value: Any, ids: Mapping[str, str]) -> Any:
    if isinstance(value, str) and value in ids:
        return ids[value]
    if isinstance(value, list):
        return [_substitute(v, ids) for v in value]
    return value


def _ours(f: dict[str, Any], value: Any) -> tuple[Any, dict[str, Any] | None]:
    impl = T[f["type"]]
    normalized = impl.normalize(f, value)
    problem = impl.validate(f, normalized)
    if problem is not None:
        return None, problem.to_json()
    return impl.from_db(f, impl.to_db(f, normalized)), None


@pytest.mark.slow
def test_differential_against_pocketbase(pocketbase: httpx.Client) -> None:
    client = pocketbase
    ids = {}
    for i in range(1, 5):
        user = client.post("/api/collections/users/records", json={"email": f"u{i}@x.io", "password": "12345678", "passwordConfirm": "12345678"})
        assert user.status_code == 200, user.text
        ids[f"{{u{i}}}"] = user.json()["id"]
    collections = {name: _create_collection(client, name, fields) for name, fields in (("diff", DIFF_FIELDS), ("req", REQ_FIELDS))}

    # complete_field produces what PocketBase stored for the posted fields
    for name, fields in (("diff", DIFF_FIELDS), ("req", REQ_FIELDS)):
        stored = {f["name"]: f for f in collections[name]["fields"]}
        for posted in fields:
            assert complete_field(posted, T) == stored[posted["name"]], posted
    defs = {name: {f["name"]: f for f in c["fields"]} for name, c in collections.items()}

    mismatches = []
    for collection, name, raw in DIFF_CASES:
        value = _substitute(raw, ids)
        response = client.post(f"/api/collections/{collection}/records", json={name: value})
        body = response.json()
        f = defs[collection][name]
        ours_value, ours_error = _ours(f, value)
        if response.status_code == 200:
            theirs: tuple[Any, Any] = (body[name], None)
            if f["type"] == "password":
                ours_value = ""  # PocketBase outputs the (cleared) plain value
        else:
            theirs = (None, body["data"].get(name))
            if theirs[1] is None:
                ours_value = None  # another field failed; nothing stored to compare
        if (ours_value, ours_error) != theirs:
            mismatches.append((collection, name, raw, theirs, (ours_value, ours_error)))
    assert mismatches == []

    # autogenerated on create
    created = client.post("/api/collections/diff/records", json={}).json()
    assert re.fullmatch("[a-z]{4}", created["tg"])
    assert re.fullmatch("[a-z]{4}", T["text"].autogenerate(defs["diff"]["tg"]) or "")

    # too many files (multipart uploads)
    files = [("mf", (f"f{i}.txt", b"x", "text/plain")) for i in range(3)]
    response = client.post("/api/collections/diff/records", files=files)
    assert response.status_code == 400
    uploads = [Upload(f"f{i}.txt") for i in range(3)]
    assert response.json()["data"]["mf"] == err(T["file"].validate(defs["diff"]["mf"], uploads))

    # option checks and completed fields of a collection create
    for posted in DIFF_BAD_FIELDS:
        definition = {"name": "x", **posted}
        response = client.post("/api/collections", json={"name": "opts", "type": "base", "fields": [definition]})
        completed = complete_field(definition, T)
        ours = _error_data(T[completed["type"]].check_options(completed))
        if response.status_code == 200:
            assert ours == {}, posted
            assert response.json()["fields"][1] == completed
            assert client.delete("/api/collections/opts").status_code == 204
        else:
            assert response.json()["data"]["fields"]["1"] == ours, posted
