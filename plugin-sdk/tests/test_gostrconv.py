"""``pbk_sdk.gostrconv``: Go's ``strconv.ParseBool`` and ``strconv.ParseInt(s, 0, 64)``, edge
cases as Go's own tests and documentation give them."""

from __future__ import annotations

import pytest
from pbk_sdk.gostrconv import INT64_MAX, INT64_MIN, parse_bool, parse_int


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1", True), ("t", True), ("T", True), ("TRUE", True), ("true", True), ("True", True),
        ("0", False), ("f", False), ("F", False), ("FALSE", False), ("false", False), ("False", False),
        ("", None), ("yes", None), ("tRUE", None), (" true", None), ("2", None),
    ],
)
def test_parse_bool_reads_only_gos_spellings(text: str, value: bool | None) -> None:
    assert parse_bool(text) is value


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("0", 0), ("00", 0), ("-0", 0), ("+25", 25), ("-1", -1), ("1_000", 1000),
        ("010", 8), ("0_10", 8), ("0o17", 15), ("0O17", 15), ("0b101", 5), ("0x1f", 31), ("0X_1F", 31),
        ("-0x10", -16), ("9223372036854775807", INT64_MAX), ("-9223372036854775808", INT64_MIN),
        ("0x7fffffffffffffff", INT64_MAX),
    ],
)
def test_parse_int_reads_what_go_reads(text: str, value: int) -> None:
    assert parse_int(text) == value


@pytest.mark.parametrize(
    "text",
    [
        "", "+", "-", "+-1", " 25", "25 ", "1.5", "1e3", "08", "0x", "0o", "0b", "0b2", "0xg", "0x0x1",
        "_1", "1_", "1__0", "0_", "0x_", "0x1_", "٣", "１", "9223372036854775808", "-9223372036854775809",
        "1" * 400,
    ],
)
def test_parse_int_refuses_what_go_refuses(text: str) -> None:
    assert parse_int(text) is None
