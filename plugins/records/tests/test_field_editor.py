"""``editor`` against PocketBase 0.40.6: a string limited in bytes."""

from __future__ import annotations

from fields_testing import REQUIRED, TypeTables, no_greater, no_less

tables = TypeTables("editor")

NORMALIZE = [
    (5, "5"),
]
test_normalize = tables.normalize(NORMALIZE)

VALIDATE = [
    ({"maxSize": 10}, "x" * 11, {"code": "validation_content_size_limit", "message": "The maximum allowed content size is 10 bytes.", "params": {"maxSize": 10}}),
    ({"maxSize": 10}, "é" * 6, {"code": "validation_content_size_limit", "message": "The maximum allowed content size is 10 bytes.", "params": {"maxSize": 10}}),
    ({"maxSize": 10}, "é" * 5, None),
    ({"maxSize": 10, "required": True}, "", REQUIRED),
    ({}, "x" * (5 << 20), None),
    ({}, "x" * ((5 << 20) + 1), {"code": "validation_content_size_limit", "message": "The maximum allowed content size is 5242880 bytes.", "params": {"maxSize": 5242880}}),
]
test_validate = tables.validate(VALIDATE)

CHECK_OPTIONS = [
    ({"type": "editor", "maxSize": -1}, {"maxSize": no_less(0)}),
    ({"type": "editor", "maxSize": 2**53}, {"maxSize": no_greater(2**53 - 1)}),
]
test_check_options = tables.check_options(CHECK_OPTIONS)
