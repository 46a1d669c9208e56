"""``number`` against PocketBase 0.40.6: ``cast.ToFloat64`` with ``strconv.ParseFloat`` syntax,
bounds that skip zero, ``onlyInt``."""

from __future__ import annotations

from fields_testing import REQUIRED, TypeTables

tables = TypeTables("number")

NOT_A_NUMBER = {"code": "validation_not_a_number", "message": "The submitted number is not properly formatted."}
ONLY_INT = {"code": "validation_only_int_constraint", "message": "Decimal numbers are not allowed."}

NUMBER = {"min": 2, "max": 10, "onlyInt": True}

NORMALIZE = [
    # number: cast.ToFloat64 with strconv.ParseFloat syntax
    ("12", 12),
    ("abc", 0),
    (True, 1),
    (False, 0),
    (None, 0),
    ("1e3", 1000),
    (" 12 ", 0),
    ("0x1F", 0),
    ("0x1p4", 16),
    ("0x1.8p1", 3),
    ("12abc", 0),
    ([1], 0),
    ({"a": 1}, 0),
    ("", 0),
    (1.5, 1.5),
    (1.0, 1),
    ("1_000", 1000),
    ("1__0", 0),
    ("_1", 0),
    ("1_", 0),
    ("1_.5", 0),
    ("1_0e1_0", 100000000000),
    ("+5", 5),
    (".5", 0.5),
    ("5.", 5),
    ("1,5", 0),
    ("1e400", 0),
    ("1e-400", 0),
    ("+nan", 0),
    ("0b101", 0),
    ("017", 17),
    ("1e", 0),
    ("1E5", 100000),
    (12345678901234567890, 12345678901234567000),
]
test_normalize = tables.normalize(NORMALIZE)

VALIDATE = [
    (NUMBER, 2.5, ONLY_INT),
    (NUMBER, 1, {"code": "validation_min_number_constraint", "message": "Must be greater or equal than 2.", "params": {"min": 2}}),
    (NUMBER, 11, {"code": "validation_max_number_constraint", "message": "Must be less or equal than 10.", "params": {"max": 10}}),
    (NUMBER, 0, None),  # zero skips min/max
    (NUMBER, 1e20, ONLY_INT),  # beyond int64
    ({"min": -1, "max": 100.25, "required": True}, 0, REQUIRED),
    ({"min": -1, "max": 100.25}, -2, {"code": "validation_min_number_constraint", "message": "Must be greater or equal than -1.", "params": {"min": -1}}),
    ({"min": -1, "max": 100.25}, 100.5, {"code": "validation_max_number_constraint", "message": "Must be less or equal than 100.25.", "params": {"max": 100.25}}),
    ({"min": 1000000}, 5, {"code": "validation_min_number_constraint", "message": "Must be greater or equal than 1e+06.", "params": {"min": 1000000}}),
    ({"min": 0.00001}, 0.000001, {"code": "validation_min_number_constraint", "message": "Must be greater or equal than 1e-05.", "params": {"min": 1e-05}}),
    ({"min": 1234567.5}, 5, {"code": "validation_min_number_constraint", "message": "Must be greater or equal than 1.2345675e+06.", "params": {"min": 1234567.5}}),
    ({"min": 123456.5}, 5, {"code": "validation_min_number_constraint", "message": "Must be greater or equal than 123456.5.", "params": {"min": 123456.5}}),
    ({"max": -1e21}, 5, {"code": "validation_max_number_constraint", "message": "Must be less or equal than -1e+21.", "params": {"max": -1e21}}),
    ({}, "Infinity", NOT_A_NUMBER),
    ({}, "-inf", NOT_A_NUMBER),
    ({}, "nan", NOT_A_NUMBER),
]
test_validate = tables.validate(VALIDATE)

ROUND_TRIPS = [
    ({}, 10.0, 10, 10),
    ({}, 1.5, 1.5, 1.5),
    ({}, -3, -3, -3),
    ({}, 1e20, 1e20, 100000000000000000000),
]
test_to_db_from_db = tables.round_trips(ROUND_TRIPS)

FROM_DB = [
    ({}, None, 0),
    ({}, "12", 12),
    ({}, 3.0, 3),
]
test_from_db = tables.from_db(FROM_DB)

CHECK_OPTIONS = [
    ({"type": "number", "min": 5, "max": 3}, {"max": {"code": "validation_min_number_constraint", "message": "Must be greater or equal than 5.", "params": {"min": 5}}}),
    ({"type": "number", "min": 5, "max": 0}, {"max": {"code": "validation_min_number_constraint", "message": "Must be greater or equal than 5.", "params": {"min": 5}}}),
    ({"type": "number", "max": 2.5, "onlyInt": True}, {"max": ONLY_INT}),
    ({"type": "number", "min": 1.5, "max": 1.2, "onlyInt": True}, {"max": ONLY_INT, "min": ONLY_INT}),
    ({"type": "number", "min": 0.5, "max": 0, "onlyInt": True}, {"max": {"code": "validation_min_number_constraint", "message": "Must be greater or equal than 0.5.", "params": {"min": 0.5}}, "min": ONLY_INT}),
    ({"type": "number", "min": 5, "max": None}, {}),
    ({"type": "number", "min": 1.5, "max": 1.5}, {}),
]
test_check_options = tables.check_options(CHECK_OPTIONS)
