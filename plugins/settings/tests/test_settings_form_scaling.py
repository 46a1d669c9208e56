"""A ``PATCH /api/settings`` form costs time linear in its size (issue #15: thousands of unknown
fields and repeated values once held a worker's event loop for seconds)."""

from __future__ import annotations

import time
from urllib.parse import urlencode

from falcon.testing import create_asgi_req
from pbk_settings.forms import read_settings_patch
from pbk_settings.shape import with_defaults

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


async def best_time(size: int) -> float:
    """Best of five runs reading a form of ``size`` unknown fields, ``size`` values of one list
    field and ``size`` ``@jsonPayload`` objects, each setting another key of one section."""
    fields = [
        *((f"k{i}", "") for i in range(size)),
        *(("superuserIPs", "10.0.0.1") for _ in range(size)),
        *(("@jsonPayload", f'{{"meta":{{"appName":"n{i}"}}, "smtp":{{"port":{i}}}}}') for i in range(size)),
    ]
    body = urlencode(fields).encode()
    like = with_defaults({})
    timings = []
    for _ in range(5):
        req = create_asgi_req(method="PATCH", path="/api/settings", body=body, headers=FORM)
        started = time.monotonic()
        patch = await read_settings_patch(req, like)
        timings.append(time.monotonic() - started)
    assert len(patch["superuserIPs"]) == size
    assert patch["meta"] == {"appName": f"n{size - 1}"}
    assert patch["smtp"] == {"port": size - 1}
    return min(timings)


async def test_a_settings_form_is_read_in_linear_time() -> None:
    single, double = await best_time(1600), await best_time(3200)  # within the 10,000 fields a form may hold
    assert double < 3 * single, f"{single:.4f}s then {double:.4f}s for twice the form: not linear"
    assert double < 1.0
