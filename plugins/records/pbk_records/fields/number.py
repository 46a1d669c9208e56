"""``number``: a float64 read with ``cast.ToFloat64`` (PocketBase's ``field_number.go``)."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from pbk_sdk.errors import FieldError

from ..gocompat.cast import cast_to_float
from ..gocompat.strconv import EXACT_FLOAT_INT, go_number, go_sprint, is_number
from .base import BuiltinFieldType, collect, required_error


class NumberType(BuiltinFieldType):
    """``number``: a float64; ``min``/``max`` (null = none), ``onlyInt``; required = non-zero.
    Zero is never checked against ``min``/``max`` (as in PocketBase)."""

    name = "number"
    options: ClassVar[Mapping[str, Any]] = {"max": None, "min": None, "onlyInt": False}
    option_kinds: ClassVar[Mapping[str, str]] = {"max": "float?", "min": "float?", "onlyInt": "bool"}

    def column_definition(self, field: Mapping[str, Any]) -> str:
        return "NUMERIC DEFAULT 0 NOT NULL"

    def zero_value(self, field: Mapping[str, Any]) -> int:
        return 0

    def is_blank(self, field: Mapping[str, Any], value: Any) -> bool:
        return cast_to_float(value) == 0

    def normalize(self, field: Mapping[str, Any], value: Any) -> int | float:
        return go_number(cast_to_float(value))

    def validate(self, field: Mapping[str, Any], value: Any) -> FieldError | None:
        f = cast_to_float(value)
        if math.isinf(f) or math.isnan(f):
            return FieldError("validation_not_a_number", "The submitted number is not properly formatted")
        if f == 0:
            return required_error() if field.get("required") else None
        if field.get("onlyInt") and not _is_int64(f):
            return FieldError("validation_only_int_constraint", "Decimal numbers are not allowed")
        minimum = field.get("min")
        if is_number(minimum) and f < minimum:
            return FieldError(
                "validation_min_number_constraint",
                f"Must be greater or equal than {go_sprint(float(minimum))}",
                {"min": go_number(minimum)},
            )
        maximum = field.get("max")
        if is_number(maximum) and f > maximum:
            return FieldError(
                "validation_max_number_constraint",
                f"Must be less or equal than {go_sprint(float(maximum))}",
                {"max": go_number(maximum)},
            )
        return None

    def to_db(self, field: Mapping[str, Any], value: Any) -> int | float:
        f = cast_to_float(value)
        if math.isfinite(f) and f.is_integer() and -(2**63) <= f < 2**63:
            return int(f)
        return f

    def from_db(self, field: Mapping[str, Any], raw: Any) -> int | float:
        if raw is None:
            return 0
        return go_number(cast_to_float(raw))

    def reader(self, field: Mapping[str, Any]) -> Callable[[Any], Any]:
        """``from_db``, with a stored integer a float64 holds exactly returned as it is (what
        ``go_number`` would make of it)."""
        from_db = self.from_db

        def read(raw: Any) -> Any:
            if type(raw) is int and -EXACT_FLOAT_INT <= raw <= EXACT_FLOAT_INT:
                return raw
            return from_db(field, raw)

        return read

    def check_options(self, field: Mapping[str, Any]) -> dict[str, Any]:
        only_int = bool(field.get("onlyInt"))
        minimum, maximum = field.get("min"), field.get("max")

        def int_problem(v: Any) -> FieldError | None:
            if only_int and is_number(v) and not _is_int64(float(v)):
                return FieldError("validation_only_int_constraint", "Decimal numbers are not allowed.")
            return None

        max_problem = int_problem(maximum)
        if max_problem is None and is_number(minimum) and is_number(maximum) and maximum < minimum:
            max_problem = FieldError(
                "validation_min_number_constraint",
                f"Must be greater or equal than {go_sprint(float(minimum))}",
                {"min": go_number(minimum)},
            )
        return collect(min=int_problem(minimum), max=max_problem)


def _is_int64(f: float) -> bool:
    """``f == float64(int64(f))`` on amd64 (out-of-range conversions never compare equal)."""
    return math.isfinite(f) and -(2**63) <= f < 2**63 and f.is_integer()
