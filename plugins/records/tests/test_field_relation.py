"""``relation`` against PocketBase 0.40.6: record ids with ``minSelect``/``maxSelect``."""

from __future__ import annotations

from fields_testing import REQUIRED, TypeTables, no_less

tables = TypeTables("relation")

NORMALIZE = [
    (["x", "y"], "y"),
    ([], ""),
]
test_normalize = tables.normalize(NORMALIZE)

VALIDATE = [
    ({"collectionId": "c", "minSelect": 2, "maxSelect": 3}, ["a"], {"code": "validation_not_enough_values", "message": "Select at least 2.", "params": {"minSelect": 2}}),
    ({"collectionId": "c", "minSelect": 2, "maxSelect": 3}, ["a", "b", "c", "d"], {"code": "validation_too_many_values", "message": "Select no more than 3.", "params": {"maxSelect": 3}}),
    ({"collectionId": "c", "minSelect": 2, "maxSelect": 3}, ["a", "a", "b"], None),
    ({"collectionId": "c", "required": True}, [], REQUIRED),
]
test_validate = tables.validate(VALIDATE)

ROUND_TRIPS = [
    ({"collectionId": "c", "maxSelect": 5}, [], "[]", []),
]
test_to_db_from_db = tables.round_trips(ROUND_TRIPS)

CHECK_OPTIONS = [
    ({"type": "relation"}, {"collectionId": REQUIRED}),
    ({"type": "relation", "collectionId": "c", "minSelect": -1}, {"minSelect": no_less(0)}),
    ({"type": "relation", "collectionId": "c", "minSelect": 3, "maxSelect": 2}, {"maxSelect": no_less(3)}),
    ({"type": "relation", "collectionId": "c", "minSelect": 2}, {"maxSelect": REQUIRED}),
    ({"type": "relation", "collectionId": "c", "maxSelect": -1}, {"maxSelect": no_less(0)}),
]
test_check_options = tables.check_options(CHECK_OPTIONS)
