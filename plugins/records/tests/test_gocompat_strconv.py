"""Go's number formats."""

from __future__ import annotations

from typing import Any

import pytest
from pbk_records.gocompat.strconv import go_sprint


@pytest.mark.parametrize(
    ("value", "text"),
    [(1000000.0, "1e+06"), (100000.0, "100000"), (123456.5, "123456.5"), (1234567.5, "1.2345675e+06"), (1e-05, "1e-05"), (0.0001, "0.0001"), (-0.5, "-0.5"), (1e21, "1e+21"), (2.0, "2"), (1000000, "1000000")],
)
def test_go_sprint(value: Any, text: str) -> None:
    assert go_sprint(value) == text  # float64 as fmt's %v prints it; Go ints print plainly
