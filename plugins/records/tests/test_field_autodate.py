"""``autodate`` against PocketBase 0.40.6: read like a date, never refused, set on create or update."""

from __future__ import annotations

from fields_testing import TypeTables

tables = TypeTables("autodate")

EITHER = {"code": "validation_required", "message": "Either onCreate or onUpdate must be enabled."}

NORMALIZE = [
    ("2024-05-06", "2024-05-06 00:00:00.000Z"),
]
test_normalize = tables.normalize(NORMALIZE)

VALIDATE = [
    ({"onCreate": True}, "2020-01-01", None),
]
test_validate = tables.validate(VALIDATE)

CHECK_OPTIONS = [
    ({"type": "autodate"}, {"onCreate": EITHER, "onUpdate": EITHER}),
    ({"type": "autodate", "onUpdate": True}, {}),
]
test_check_options = tables.check_options(CHECK_OPTIONS)
