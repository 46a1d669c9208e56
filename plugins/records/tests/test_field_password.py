"""``password`` against PocketBase 0.40.6: the plain password's checks and bcrypt's 72 bytes."""

from __future__ import annotations

from fields_testing import INVALID_FORMAT, REQUIRED, TypeTables, no_greater, no_less, regex

tables = TypeTables("password")

VALIDATE = [
    ({"min": 3, "max": 6, "pattern": "^[0-9]+$", "required": True}, "", REQUIRED),
    ({"min": 3, "max": 6}, "12", {"code": "validation_min_text_constraint", "message": "Must be at least 3 character(s)."}),
    ({"min": 3, "max": 6}, "1234567", {"code": "validation_max_text_constraint", "message": "Must be less than 6 character(s)."}),
    ({"pattern": "^[0-9]+$"}, "abc", INVALID_FORMAT),
    ({}, "x" * 72, {"code": "validation_max_text_constraint", "message": "Must be less than 71 character(s)."}),
    ({}, "x" * 71, None),
    ({}, "é" * 40, {"code": "validation_invalid_value", "message": "Invalid value."}),
    ({}, "é" * 36, None),
    ({}, "short", None),
]
test_validate = tables.validate(VALIDATE)

ROUND_TRIPS = [
    ({}, "$2a$10$hash", "$2a$10$hash", "$2a$10$hash"),
]
test_to_db_from_db = tables.round_trips(ROUND_TRIPS)

CHECK_OPTIONS = [
    ({"type": "password", "min": -1}, {"min": no_less(1)}),
    ({"type": "password", "min": 72}, {"min": no_greater(71)}),
    ({"type": "password", "max": 72}, {"max": no_greater(71)}),
    ({"type": "password", "min": 10, "max": 5}, {"max": no_less(10)}),
    ({"type": "password", "cost": 3}, {"cost": no_less(4)}),
    ({"type": "password", "cost": 32}, {"cost": no_greater(31)}),
    ({"type": "password", "pattern": "("}, {"pattern": regex("Error parsing regexp: missing closing ): `(`.")}),
]
test_check_options = tables.check_options(CHECK_OPTIONS)
