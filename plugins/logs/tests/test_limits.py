"""The message and ``data`` limits, read as PocketBase's decoder reads a cut ``data``."""

from __future__ import annotations

import orjson
import pytest
from pbk_logs.limits import DEFAULT_MAX_DATA_SIZE, MAX_MESSAGE_BYTES, fit_data, fit_message

#: A failed request's data as PocketBase 0.40.6 stores it; the cases below are what the binary
#: kept of it under each ``maxDataSize``.
FAILED = (
    '{"auth":"","details":{"passwordConfirm":"cannot be blank"},"error":"Failed to create record.",'
    '"execTime":171.384873,"method":"POST","referer":"","remoteIP":"127.0.0.1","status":400}'
)
DETAILS = {"passwordConfirm": "cannot be blank"}
CUTS = {
    1: {},
    8: {"auth": None},
    20: {"auth": "", "details": None},
    21: {"auth": "", "details": None},
    30: {"auth": "", "details": {}},
    45: {"auth": "", "details": {"passwordConfirm": None}},
    57: {"auth": "", "details": DETAILS},
    58: {"auth": "", "details": DETAILS},
    106: {"auth": "", "details": DETAILS, "error": "Failed to create record.", "execTime": 1},
    108: {"auth": "", "details": DETAILS, "error": "Failed to create record.", "execTime": 171},
    109: {"auth": "", "details": DETAILS, "error": "Failed to create record.", "execTime": None},
    111: {"auth": "", "details": DETAILS, "error": "Failed to create record.", "execTime": 171.38},
}


@pytest.mark.parametrize("size", CUTS)
def test_a_cut_keeps_what_pocketbase_keeps(size):
    kept = orjson.loads(fit_data(FAILED, size))
    assert kept == {"__pb_truncated__": True, **CUTS[size]}


def test_data_within_the_limit_is_kept_as_it_is():
    assert fit_data(FAILED, len(FAILED)) == FAILED
    assert fit_data(FAILED, 0) == FAILED
    big = orjson.dumps({"a": "x" * DEFAULT_MAX_DATA_SIZE}).decode()
    assert orjson.loads(fit_data(big, 0)) == {"__pb_truncated__": True, "a": None}


def test_the_limit_counts_bytes_and_a_split_character_leaves_its_string_open():
    data = orjson.dumps({"a": "é" * 10, "b": 1}).decode()  # 2 bytes each
    assert orjson.loads(fit_data(data, 15)) == {"__pb_truncated__": True, "a": None}
    assert orjson.loads(fit_data(data, 28)) == {"__pb_truncated__": True, "a": "é" * 10}


@pytest.mark.parametrize(
    ("data", "size", "kept"),
    [
        ('{"a":[1,2,3]}', 10, {"a": [1, 2, None]}),  # cut after "2,": the next element is null
        ('{"a":[1,2,3]}', 9, {"a": [1, 2, None]}),  # and after "2" too (Go reads on for one)
        ('{"a":[1,2,3]}', 6, {"a": [None]}),
        ('{"a":[[1],{"b":true}]}', 18, {"a": [[1], {"b": None}]}),
        ('{"a":true,"b":-5}', 15, {"a": True, "b": None}),
    ],
)
def test_cut_arrays_and_literals(data, size, kept):
    assert orjson.loads(fit_data(data, size)) == {"__pb_truncated__": True, **kept}


def test_messages_are_cut_at_8000_bytes():
    assert fit_message("m" * MAX_MESSAGE_BYTES) == "m" * MAX_MESSAGE_BYTES
    assert fit_message("m" * (MAX_MESSAGE_BYTES + 1)) == "m" * MAX_MESSAGE_BYTES
    assert fit_message("€" * 3000) == "€" * 2666  # 3 bytes each: the split one is dropped
