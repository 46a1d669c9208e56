"""``text`` against PocketBase 0.40.6: ``cast.ToString``, length limits, Go-regexp patterns,
the primary key and ``autogeneratePattern``."""

from __future__ import annotations

import re

from fields_testing import (
    INVALID_FORMAT,
    PRIMARY_KEY,
    REQUIRED,
    T,
    TypeTables,
    err,
    field,
    no_greater,
    no_less,
    regex,
)

tables = TypeTables("text")

TEXT = {"min": 3, "max": 5, "pattern": "^[a-z]+$"}

NORMALIZE = [
    # text: cast.ToString, numbers as Go prints float64 ('f', shortest)
    (123, "123"),
    (1.5, "1.5"),
    (1.0, "1"),
    (1e21, "1000000000000000000000"),
    (1e-7, "0.0000001"),
    (-0.0, "-0"),
    (12345678901234567890, "12345678901234567000"),
    (9007199254740993, "9007199254740992"),
    (0.1 + 0.2, "0.30000000000000004"),
    (True, "true"),
    (None, ""),
    ([1, 2], ""),
    ({"a": 1}, ""),
    (" x ", " x "),
]
test_normalize = tables.normalize(NORMALIZE)

VALIDATE = [
    (TEXT, "ab", {"code": "validation_min_text_constraint", "message": "Must be at least 3 character(s).", "params": {"min": 3}}),
    (TEXT, "abcdef", {"code": "validation_max_text_constraint", "message": "Must be no more than 5 character(s).", "params": {"max": 5}}),
    (TEXT, "ABC", INVALID_FORMAT),
    (TEXT, "abç", INVALID_FORMAT),
    (TEXT, "abc", None),
    (TEXT, "", None),
    ({"required": True}, "", REQUIRED),
    ({}, "x" * 5001, {"code": "validation_max_text_constraint", "message": "Must be no more than 5000 character(s).", "params": {"max": 5000}}),
    ({}, "ü" * 5000, None),
    ({"min": 3, "max": 0}, "abcdef", None),
    ({"pattern": "^a$"}, "a\n", INVALID_FORMAT),  # Go's $ is the end of the text
    ({"pattern": "\\d"}, "٣", INVALID_FORMAT),  # Go's \d is ASCII
    ({"pattern": "[a-"}, "a", INVALID_FORMAT),
]
test_validate = tables.validate(VALIDATE)

ROUND_TRIPS = [
    ({}, "héllo", "héllo", "héllo"),
]
test_to_db_from_db = tables.round_trips(ROUND_TRIPS)

FROM_DB = [
    ({}, None, ""),
]
test_from_db = tables.from_db(FROM_DB)

CHECK_OPTIONS = [
    ({"type": "text", "min": -1}, {"min": no_less(0)}),
    ({"type": "text", "min": 5, "max": 3}, {"max": no_less(5)}),
    ({"type": "text", "max": -1}, {"max": no_less(0)}),
    ({"type": "text", "min": 2**53}, {"min": no_greater(2**53 - 1)}),
    ({"type": "text", "max": 2**53}, {"max": no_greater(2**53 - 1)}),
    ({"type": "text", "min": 3, "max": 0}, {}),
    ({"type": "text", "hidden": True, "required": True, "min": -1, "max": -2}, {"max": no_less(-1), "min": no_less(0)}),
    ({"type": "text", "pattern": "[a-"}, {"pattern": regex("Error parsing regexp: missing closing ]: `[a-`.")}),
    ({"type": "text", "pattern": "(?<n>a)"}, {}),
    ({"type": "text", "autogeneratePattern": "[a-"}, {"autogeneratePattern": regex("Error parsing regexp: missing closing ]: `[a-`.")}),
    ({"type": "text", "autogeneratePattern": "^[a-z]{3}$"}, {"autogeneratePattern": {"code": "validation_invalid_autogenerate_pattern", "message": "Unsupported pattern operator 9."}}),
    ({"type": "text", "autogeneratePattern": "\\bx"}, {"autogeneratePattern": {"code": "validation_invalid_autogenerate_pattern", "message": "Unsupported pattern operator 11."}}),
    ({"type": "text", "autogeneratePattern": "a|"}, {"autogeneratePattern": {"code": "validation_invalid_autogenerate_pattern", "message": "Unsupported pattern operator 2."}}),
    ({"type": "text", "autogeneratePattern": "[^\\x00-\\x{10FFFF}]"}, {"autogeneratePattern": {"code": "validation_invalid_autogenerate_pattern", "message": "No runes to choose from."}}),
    ({"type": "text", "autogeneratePattern": "a*"}, {}),
    ({"type": "text", "autogeneratePattern": "a?", "min": 1}, {}),
    ({"type": "text", "autogeneratePattern": "<uuidv7>"}, {}),
    ({"type": "text", "primaryKey": True}, {
        "name": {"code": "validation_in_invalid", "message": 'The primary key must be named "id".'},
        "pattern": REQUIRED,
        "required": REQUIRED,
    }),
]
test_check_options = tables.check_options(CHECK_OPTIONS)


def test_validate_primary_key() -> None:
    pk = PRIMARY_KEY
    assert err(T["text"].validate(pk, "a/b")) == {"code": "validation_min_text_constraint", "message": "Must be at least 15 character(s).", "params": {"min": 15}}
    assert err(T["text"].validate(pk, "abcdefghijklm/o")) == INVALID_FORMAT
    assert err(T["text"].validate(pk, "")) == REQUIRED
    assert T["text"].validate(pk, "abcdefghijklmno") is None
    loose = field("text", name="id", primaryKey=True, required=True, pattern=".*")
    assert err(T["text"].validate(loose, "a/b")) == {"code": "validation_forbidden_pk_character", "message": "'/' is not a valid primary key character.", "params": {"ch": "/"}}
    assert err(T["text"].validate(loose, "a\\b")) == {"code": "validation_forbidden_pk_character", "message": "'\\' is not a valid primary key character.", "params": {"ch": "\\"}}


def test_autogenerate_pattern_that_breaks_the_field_rules() -> None:
    f = field("text", autogeneratePattern="[a-z]{3}", max=2)
    problem = T["text"].check_options(f)["autogeneratePattern"]
    assert problem.code == "validation_invalid_autogenerate_pattern_value"
    assert re.fullmatch(r'The provided autogenerate pattern could produce invalid field values, ex\.: "[a-z]{3}"\.', problem.message)


def test_autogenerate() -> None:
    assert T["text"].autogenerate(field("text")) is None
    assert len(T["text"].autogenerate(PRIMARY_KEY) or "") == 15
