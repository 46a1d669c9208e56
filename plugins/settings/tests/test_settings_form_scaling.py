"""A ``PATCH /api/settings`` form costs time linear in its size (issue #15: thousands of unknown
fields and repeated values once held a worker's event loop for seconds)."""

from __future__ import annotations

import time
from urllib.parse import urlencode

from falcon.testing import create_asgi_req
from pbk_settings.forms import read_settings_patch
from pbk_settings.shape import with_defaults

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


async def read_time(size: int) -> float:
    """The CPU time of one read of a form of ``size`` unknown fields, ``size`` values of one list
    field and ``size`` ``@jsonPayload`` objects, each setting another key of one section."""
    fields = [
        *((f"k{i}", "") for i in range(size)),
        *(("superuserIPs", "10.0.0.1") for _ in range(size)),
        *(("@jsonPayload", f'{{"meta":{{"appName":"n{i}"}}, "smtp":{{"port":{i}}}}}') for i in range(size)),
    ]
    req = create_asgi_req(method="PATCH", path="/api/settings", body=urlencode(fields).encode(), headers=FORM)
    like = with_defaults({})
    started = time.thread_time()
    patch = await read_settings_patch(req, like)
    took = time.thread_time() - started
    assert len(patch["superuserIPs"]) == size
    assert patch["meta"] == {"appName": f"n{size - 1}"}
    assert patch["smtp"] == {"port": size - 1}
    return took


async def test_a_settings_form_is_read_in_linear_time() -> None:
    # The CPU time this thread spent (other processes busy on the machine take none of it), best
    # of five of each size, taken in turns.
    timings: dict[int, list[float]] = {1600: [], 3200: []}  # within the 10,000 fields a form may hold
    for _ in range(5):
        for size, taken in timings.items():
            taken.append(await read_time(size))
    single, double = min(timings[1600]), min(timings[3200])
    assert double < 3 * single, f"{single:.4f}s then {double:.4f}s for twice the form: not linear"
    assert double < 1.0
