"""``bool`` against PocketBase 0.40.6: ``cast.ToBool``; required means true."""

from __future__ import annotations

from fields_testing import (
    REQUIRED,
    check_options_test,
    from_db_test,
    normalize_test,
    round_trip_test,
    validate_test,
)

NORMALIZE = [
    # bool: cast.ToBool (strconv.ParseBool)
    ("1", True),
    ("yes", False),
    ("true", True),
    ("TRUE", True),
    ("True", True),
    ("t", True),
    ("T", True),
    ("tRue", False),
    (" true", False),
    ("0", False),
    ("on", False),
    (1, True),
    (2, True),
    (-1, True),
    (0.5, True),
    (0, False),
    (None, False),
    ([1], False),
    ({}, False),
]

VALIDATE = [
    ({"required": True}, False, REQUIRED),
    ({"required": True}, True, None),
]

ROUND_TRIPS = [
    ({}, True, 1, True),
    ({}, False, 0, False),
]

FROM_DB = [
    ({}, "1", True),
    ({}, None, False),
]

CHECK_OPTIONS = [
    ({"type": "bool"}, {}),
]

test_normalize = normalize_test("bool", NORMALIZE)
test_validate = validate_test("bool", VALIDATE)
test_to_db_from_db = round_trip_test("bool", ROUND_TRIPS)
test_from_db = from_db_test("bool", FROM_DB)
test_check_options = check_options_test(CHECK_OPTIONS)
