"""``geoPoint`` against PocketBase 0.40.6: keys read in order, latitude checked first."""

from __future__ import annotations

from typing import Any

import pytest
from fields_testing import REQUIRED, T, TypeTables, field, short

tables = TypeTables("geoPoint")

LATITUDE = {"code": "validation_invalid_latitude", "message": "Latitude must be between -90 and 90 degrees."}
LONGITUDE = {"code": "validation_invalid_longitude", "message": "Longitude must be between -180 and 180 degrees."}

VALIDATE = [
    ({"required": True}, {"lon": 0, "lat": 0}, REQUIRED),
    ({}, {"lon": 200, "lat": 0}, LONGITUDE),
    ({}, {"lon": 0, "lat": 100}, LATITUDE),
    ({}, {"lon": 200, "lat": 100}, LATITUDE),
    ({}, {"lon": 1.5e300, "lat": -90}, LONGITUDE),
    ({}, {"lon": -180, "lat": 90}, None),
    ({}, {"lon": -180.0001, "lat": 0}, LONGITUDE),
    ({}, {"lon": 12345678901234567890, "lat": 0}, LONGITUDE),
]
test_validate = tables.validate(VALIDATE)

ROUND_TRIPS = [
    ({}, {"lon": 1.5, "lat": 2}, '{"lon":1.5,"lat":2}', {"lon": 1.5, "lat": 2}),
]
test_to_db_from_db = tables.round_trips(ROUND_TRIPS)

FROM_DB = [
    ({}, None, {"lon": 0, "lat": 0}),
    ({}, '{"lon":1,"lat":2}', {"lon": 1, "lat": 2}),
]
test_from_db = tables.from_db(FROM_DB)

CHECK_OPTIONS = [
    ({"type": "geoPoint"}, {}),
]
test_check_options = tables.check_options(CHECK_OPTIONS)


GEO_NORMALIZE = [
    ({"lon": 1, "lat": 2}, {"lon": 1, "lat": 2}),
    ({"lat": 2}, {"lon": 0, "lat": 2}),
    ({"lon": "1", "lat": "2"}, {"lon": 0, "lat": 0}),
    ('{"lon":1,"lat":2}', {"lon": 1, "lat": 2}),
    ('{"lon":5,"Lat":6}', {"lon": 5, "lat": 0}),
    ('{"lon":true,"lat":1}', {"lon": 0, "lat": 0}),
    ('{"lat":1,"lon":true}', {"lon": 0, "lat": 1}),
    ('{"lon":5,"lat":6} ', {"lon": 5, "lat": 6}),
    ('{"lon":1e400}', {"lon": 0, "lat": 0}),
    ("[1,2]", {"lon": 0, "lat": 0}),
    ("null", {"lon": 0, "lat": 0}),
    ("garbage", {"lon": 0, "lat": 0}),
    ("", {"lon": 0, "lat": 0}),
    (None, {"lon": 0, "lat": 0}),
    ([1, 2], {"lon": 0, "lat": 0}),
    ({}, {"lon": 0, "lat": 0}),
    (5, {"lon": 0, "lat": 0}),
    ({"lon": 1, "lat": 2, "x": 3}, {"lon": 1, "lat": 2}),
    ({"LON": 5, "Lat": 6}, {"lon": 0, "lat": 0}),
    ({"Lon": 5, "lat": 6}, {"lon": 0, "lat": 6}),
    ({"lon": None, "lat": 1}, {"lon": 0, "lat": 1}),
    ({"lon": 5, "lat": None}, {"lon": 5, "lat": 0}),
    ({"lon": 1.5, "lat": -2.25}, {"lon": 1.5, "lat": -2.25}),
]


@pytest.mark.parametrize(("value", "expected"), GEO_NORMALIZE, ids=short)
def test_normalize_geo_point(value: Any, expected: dict[str, Any]) -> None:
    got = T["geoPoint"].normalize(field("geoPoint"), value)
    assert got == expected
    assert list(got) == ["lon", "lat"]
