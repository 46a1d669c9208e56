"""``select`` against PocketBase 0.40.6: ``list.ToUniqueStringSlice``, the last value for a single
select, allowed values and ``maxSelect``."""

from __future__ import annotations

from typing import Any

import pytest
from fields_testing import REQUIRED, T, TypeTables, field, no_greater, no_less, short

tables = TypeTables("select")

NORMALIZE = [
    # select / relation: list.ToUniqueStringSlice, single keeps the last
    (["a", "b"], "b"),
    (["", "a"], "a"),
    (None, ""),
    (1, "1"),
    (True, "true"),
    ('["a","b"]', "b"),
    ("[bad", "[bad"),
    ({"x": 1}, ""),
    ([["a"]], ""),
    ("a b", "a b"),
]
test_normalize = tables.normalize(NORMALIZE)

VALIDATE = [
    ({"values": ["a", "b", "c"], "required": True}, [], REQUIRED),
    ({"values": ["a", "b"]}, "zz", {"code": "validation_invalid_value", "message": "Invalid value zz.", "params": {"value": "zz"}}),
    ({"values": ["a", "b"]}, " a", {"code": "validation_invalid_value", "message": "Invalid value  a.", "params": {"value": " a"}}),
    ({"values": ["a", "b"]}, "[1]", {"code": "validation_invalid_value", "message": "Invalid value [1].", "params": {"value": "[1]"}}),
    ({"values": ["a", "b"]}, ["zz", "a"], None),
    ({"values": list("abcd"), "maxSelect": 2}, ["a", "b", "c"], {"code": "validation_too_many_values", "message": "Select no more than 2.", "params": {"maxSelect": 2}}),
    ({"values": list("abcd"), "maxSelect": 2}, ["a", "x", "b"], {"code": "validation_too_many_values", "message": "Select no more than 2.", "params": {"maxSelect": 2}}),
    ({"values": list("abcd"), "maxSelect": 3}, ["a", "zz"], {"code": "validation_invalid_value", "message": "Invalid value zz.", "params": {"value": "zz"}}),
    ({"values": list("abcd"), "maxSelect": 3}, [1.5], {"code": "validation_invalid_value", "message": "Invalid value 1.5.", "params": {"value": "1.5"}}),
]
test_validate = tables.validate(VALIDATE)

ROUND_TRIPS = [
    ({"values": ["a", "b"], "maxSelect": 2}, ["a", "b"], '["a","b"]', ["a", "b"]),
    ({"values": ["a"]}, "a", "a", "a"),
]
test_to_db_from_db = tables.round_trips(ROUND_TRIPS)

FROM_DB = [
    ({"values": ["a"], "maxSelect": 2}, "a", ["a"]),  # was single before
    ({"values": ["a"], "maxSelect": 2}, None, []),
    ({"values": ["a"]}, '["a","b"]', "b"),  # was multiple before
]
test_from_db = tables.from_db(FROM_DB)

CHECK_OPTIONS = [
    ({"type": "select", "values": []}, {"values": REQUIRED}),
    ({"type": "select", "values": ["a"], "maxSelect": 2}, {"maxSelect": no_greater(1)}),
    ({"type": "select", "values": ["a", "b"], "maxSelect": -1}, {"maxSelect": no_less(0)}),
    ({"type": "select", "values": [], "maxSelect": 2}, {"maxSelect": no_greater(1), "values": REQUIRED}),
    ({"type": "select", "values": ["a", "a"], "maxSelect": 2}, {}),
]
test_check_options = tables.check_options(CHECK_OPTIONS)


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


@pytest.mark.parametrize(("value", "expected"), MULTI_NORMALIZE, ids=short)
def test_normalize_multiple(value: Any, expected: list[str]) -> None:
    assert T["select"].normalize(field("select", values=["a"], maxSelect=5), value) == expected
    assert T["relation"].normalize(field("relation", collectionId="x", maxSelect=5), value) == expected
    single = T["select"].normalize(field("select", values=["a"]), value)
    assert single == (expected[-1] if expected else "")
