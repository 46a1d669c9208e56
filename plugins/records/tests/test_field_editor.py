"""``editor`` against PocketBase 0.40.6: a string limited in bytes."""

from __future__ import annotations

from fields_testing import (
    REQUIRED,
    check_options_test,
    no_greater,
    no_less,
    normalize_test,
    validate_test,
)

NORMALIZE = [
    (5, "5"),
]

VALIDATE = [
    ({"maxSize": 10}, "x" * 11, {"code": "validation_content_size_limit", "message": "The maximum allowed content size is 10 bytes.", "params": {"maxSize": 10}}),
    ({"maxSize": 10}, "é" * 6, {"code": "validation_content_size_limit", "message": "The maximum allowed content size is 10 bytes.", "params": {"maxSize": 10}}),
    ({"maxSize": 10}, "é" * 5, None),
    ({"maxSize": 10, "required": True}, "", REQUIRED),
    ({}, "x" * (5 << 20), None),
    ({}, "x" * ((5 << 20) + 1), {"code": "validation_content_size_limit", "message": "The maximum allowed content size is 5242880 bytes.", "params": {"maxSize": 5242880}}),
]

CHECK_OPTIONS = [
    ({"type": "editor", "maxSize": -1}, {"maxSize": no_less(0)}),
    ({"type": "editor", "maxSize": 2**53}, {"maxSize": no_greater(2**53 - 1)}),
]

test_normalize = normalize_test("editor", NORMALIZE)
test_validate = validate_test("editor", VALIDATE)
test_check_options = check_options_test(CHECK_OPTIONS)
