"""``json`` against PocketBase 0.40.6: strings read as multipart values are, values re-encoded as
Go does, the size limit and invalid JSON."""

from __future__ import annotations

from typing import Any

import pytest
from fields_testing import REQUIRED, T, TypeTables, field, no_less, short

tables = TypeTables("json")
from pbk_records.fields import InvalidJSON

INVALID_JSON = {"code": "validation_invalid_json", "message": "Must be a valid json value."}

VALIDATE = [
    ({"maxSize": 20, "required": True}, "x" * 30, {"code": "validation_json_size_limit", "message": "The maximum allowed JSON size is 20 bytes.", "params": {"maxSize": 20}}),
    ({"maxSize": 12}, "abcdefghij", None),
    ({"maxSize": 12}, "abcdefghijk", {"code": "validation_json_size_limit", "message": "The maximum allowed JSON size is 12 bytes.", "params": {"maxSize": 12}}),
    ({"maxSize": 12}, "äbcdefghi", None),
    ({"maxSize": 12}, {"a": "<>"}, None),
    ({"maxSize": 12}, {"a": "\u2028\u2028"}, {"code": "validation_json_size_limit", "message": "The maximum allowed JSON size is 12 bytes.", "params": {"maxSize": 12}}),
    ({}, "x" * (1 << 20), {"code": "validation_json_size_limit", "message": "The maximum allowed JSON size is 1048576 bytes.", "params": {"maxSize": 1048576}}),
    ({}, "x" * ((1 << 20) - 2), None),
    ({"required": True}, [], REQUIRED),
    ({"required": True}, {}, REQUIRED),
    ({"required": True}, "", REQUIRED),
    ({"required": True}, "null", REQUIRED),
    ({"required": True}, 0, None),
    ({"required": True}, False, None),
    ({}, "a\x01b", INVALID_JSON),
    ({}, "a\x7fb", INVALID_JSON),
    ({}, "a\x07", INVALID_JSON),
    ({}, "a\x0bb", INVALID_JSON),
    ({}, '{"a":"x\x01"}', INVALID_JSON),
    ({}, ["x\x01"], None),
]
test_validate = tables.validate(VALIDATE)

ROUND_TRIPS = [
    ({}, {"a": [1, "é"]}, '{"a":[1,"é"]}', {"a": [1, "é"]}),
    ({}, None, None, None),
    ({}, "", '""', ""),
    ({}, 12345678901234567890123, "12345678901234567890123", 12345678901234567890123),
]
test_to_db_from_db = tables.round_trips(ROUND_TRIPS)

FROM_DB = [
    # SQLite's column affinities hand back numbers for NUMERIC/JSON columns
    ({}, 1, 1),
    ({}, 1e-07, 1e-07),
    ({}, 1.2345678901234567e19, 12345678901234567000),
    ({}, "not json", "not json"),
]
test_from_db = tables.from_db(FROM_DB)

CHECK_OPTIONS = [
    ({"type": "json", "maxSize": -1}, {"maxSize": no_less(0)}),
]
test_check_options = tables.check_options(CHECK_OPTIONS)


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


@pytest.mark.parametrize(("value", "expected"), JSON_NORMALIZE, ids=short)
def test_normalize_json(value: Any, expected: Any) -> None:
    got = T["json"].normalize(field("json"), value)
    assert got == expected
    assert type(got) is type(expected)
    if isinstance(expected, dict):
        assert list(got) == list(expected)


def test_invalid_json_is_never_stored() -> None:
    value = T["json"].normalize(field("json"), "a\x01")
    assert isinstance(value, InvalidJSON)
    with pytest.raises(ValueError):
        T["json"].to_db(field("json"), value)
