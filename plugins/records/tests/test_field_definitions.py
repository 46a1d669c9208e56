"""Field definitions against PocketBase 0.40.6: ``complete_field`` fills a posted field as
PocketBase stores it, and every built-in type's column DDL and zero value."""

from __future__ import annotations

from typing import Any

import pytest
from fields_testing import ALL_FIELDS, T, field
from pbk_records.fields import FieldFormatError, complete_field

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
# Its table DDL.
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
