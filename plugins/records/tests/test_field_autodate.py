"""``autodate`` against PocketBase 0.40.6: read like a date, never refused, set on create or update."""

from __future__ import annotations

from fields_testing import check_options_test, normalize_test, validate_test

EITHER = {"code": "validation_required", "message": "Either onCreate or onUpdate must be enabled."}

NORMALIZE = [
    ("2024-05-06", "2024-05-06 00:00:00.000Z"),
]

VALIDATE = [
    ({"onCreate": True}, "2020-01-01", None),
]

CHECK_OPTIONS = [
    ({"type": "autodate"}, {"onCreate": EITHER, "onUpdate": EITHER}),
    ({"type": "autodate", "onUpdate": True}, {}),
]

test_normalize = normalize_test("autodate", NORMALIZE)
test_validate = validate_test("autodate", VALIDATE)
test_check_options = check_options_test(CHECK_OPTIONS)
