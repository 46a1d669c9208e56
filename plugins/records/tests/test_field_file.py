"""``file`` against PocketBase 0.40.6: names and uploads, ``maxSelect`` and the thumb sizes."""

from __future__ import annotations

from fields_testing import REQUIRED, T, TypeTables, Upload, field, no_greater, no_less

tables = TypeTables("file")

VALIDATE = [
    ({"maxSelect": 2, "required": True}, [], REQUIRED),
    ({"maxSelect": 2}, [Upload("a"), Upload("b"), Upload("c")], {"code": "validation_too_many_files", "message": "The maximum allowed files is 2.", "params": {"maxSelect": 2}}),
    ({"maxSelect": 2}, [Upload("a"), Upload("a"), Upload("c")], None),
]
test_validate = tables.validate(VALIDATE)

CHECK_OPTIONS = [
    ({"type": "file", "maxSelect": -1}, {"maxSelect": no_less(0)}),
    ({"type": "file", "maxSize": 2**53}, {"maxSize": no_greater(2**53 - 1)}),
    ({"type": "file", "thumbs": ["0x0", "100x100", "bad", "100x100z", "0x50", "50x0f", "10x10t", ""]}, {"thumbs": {
        "0": {"code": "validation_not_in_invalid", "message": "Must not be in list."},
        "2": {"code": "validation_match_invalid", "message": "Must be in a valid format."},
        "3": {"code": "validation_match_invalid", "message": "Must be in a valid format."},
    }}),
    ({"type": "file", "mimeTypes": ["bogus", ""]}, {}),
]
test_check_options = tables.check_options(CHECK_OPTIONS)


def test_normalize_files() -> None:
    multi = field("file", maxSelect=3)
    a, b = Upload("a.txt"), Upload("b.txt")
    assert T["file"].normalize(multi, ["x.txt", a, "x.txt", b, Upload("a.txt")]) == ["x.txt", a, b]
    assert T["file"].normalize(multi, "x.txt") == ["x.txt"]
    assert T["file"].normalize(multi, [["y"], ["p", "q"], ""]) == ["y"]
    assert T["file"].normalize(field("file"), ["x.txt", a]) is a
    assert T["file"].normalize(field("file"), []) == ""
    assert T["file"].to_db(multi, ["x.txt", a]) == '["x.txt","a.txt"]'
    assert T["file"].to_db(field("file"), a) == "a.txt"
