"""The JS SDK end-to-end tests (``js_sdk_suite.py``) on PostgreSQL, one node."""

from __future__ import annotations

import pytest
from js_sdk_suite import GROUPS, run_js_sdk_tests

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("group", GROUPS)
def test_js_sdk_end_to_end(group: str) -> None:
    run_js_sdk_tests(1, group)
