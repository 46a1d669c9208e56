"""PocketBase's date parsing, as field options use it (the inputs are tested through the date
field)."""

from __future__ import annotations

from pbk_records.gocompat.datetimes import parse_datetime


def test_parse_datetime_is_exported_for_options() -> None:
    assert parse_datetime("2024-01-01") == "2024-01-01 00:00:00.000Z"
