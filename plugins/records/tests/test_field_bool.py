"""``bool`` against PocketBase 0.40.6: ``cast.ToBool``; required means true."""

from __future__ import annotations

from fields_testing import REQUIRED, TypeTables

tables = TypeTables("bool")

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
test_normalize = tables.normalize(NORMALIZE)

VALIDATE = [
    ({"required": True}, False, REQUIRED),
    ({"required": True}, True, None),
]
test_validate = tables.validate(VALIDATE)

ROUND_TRIPS = [
    ({}, True, 1, True),
    ({}, False, 0, False),
]
test_to_db_from_db = tables.round_trips(ROUND_TRIPS)

FROM_DB = [
    ({}, "1", True),
    ({}, None, False),
]
test_from_db = tables.from_db(FROM_DB)

CHECK_OPTIONS = [
    ({"type": "bool"}, {}),
]
test_check_options = tables.check_options(CHECK_OPTIONS)
