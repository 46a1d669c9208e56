"""``geoPoint``: a longitude/latitude pair (PocketBase's ``field_geo_point.go``)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from pbk_sdk.errors import FieldError

from ..gocompat.jsonenc import go_json_dumps, strict_json_loads
from ..gocompat.strconv import go_number, is_number
from .base import BuiltinFieldType, required_error

ZERO_GEO_POINT = {"lon": 0, "lat": 0}


class GeoPointType(BuiltinFieldType):
    """``geoPoint``: ``{"lon": x, "lat": y}``; required = not (0, 0); lat within ±90, lon
    within ±180 (latitude is reported first)."""

    name = "geoPoint"

    def column_definition(self, field: Mapping[str, Any]) -> str:
        return 'JSON DEFAULT \'{"lon":0,"lat":0}\' NOT NULL'

    def zero_value(self, field: Mapping[str, Any]) -> dict[str, Any]:
        return dict(ZERO_GEO_POINT)

    def is_blank(self, field: Mapping[str, Any], value: Any) -> bool:
        point = self.normalize(field, value)
        return point["lon"] == 0 and point["lat"] == 0

    def normalize(self, field: Mapping[str, Any], value: Any) -> dict[str, Any]:
        """Keys are case-sensitive and read in order; the first non-number stops the reading
        (what PocketBase does with a JSON string; for an object its own order is random)."""
        if isinstance(value, bytes):
            value = value.decode("utf-8", "replace")
        if isinstance(value, str):
            if not value:
                return dict(ZERO_GEO_POINT)
            try:
                value = strict_json_loads(value)
            except ValueError:
                return dict(ZERO_GEO_POINT)
        point = {"lon": 0.0, "lat": 0.0}
        if isinstance(value, Mapping):
            for key, v in value.items():
                if key not in point or v is None:
                    continue
                if not is_number(v):
                    break
                try:
                    f = float(v)
                except OverflowError:
                    break
                if not math.isfinite(f):
                    break
                point[key] = f
        return {"lon": go_number(point["lon"]), "lat": go_number(point["lat"])}

    def validate(self, field: Mapping[str, Any], value: Any) -> FieldError | None:
        point = self.normalize(field, value)
        lon, lat = point["lon"], point["lat"]
        if lon == 0 and lat == 0:
            return required_error() if field.get("required") else None
        if lat < -90 or lat > 90:
            return FieldError("validation_invalid_latitude", "Latitude must be between -90 and 90 degrees.")
        if lon < -180 or lon > 180:
            return FieldError("validation_invalid_longitude", "Longitude must be between -180 and 180 degrees.")
        return None

    def to_db(self, field: Mapping[str, Any], value: Any) -> str:
        point = self.normalize(field, value)
        return '{"lon":' + go_json_dumps(point["lon"]) + ',"lat":' + go_json_dumps(point["lat"]) + "}"

    def from_db(self, field: Mapping[str, Any], raw: Any) -> dict[str, Any]:
        return self.normalize(field, raw)
