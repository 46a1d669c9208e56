"""A rate limit holds for the whole server: on a two-worker pbk, each wrong password is sent on
a new connection, which then asks which worker served it (a test plugin in ``--pluginsDir``),
so the test shows both workers refusing once the limit is spent, instead of trusting the odds."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from conftest import EMAIL, PASSWORD, start_pbk
from pbk_sdk.testing import superuser_token
from pbk_sdk.testing.servers import LiveServer
from pbk_sdk.testing.workers import WHOAMI, write_whoami_plugin

pytestmark = pytest.mark.slow

WRONG_LOGIN = {"identity": "nobody@example.com", "password": "wrong-password"}


@pytest.fixture(scope="module")
def two_workers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    base = tmp_path_factory.mktemp("ratelimits-workers")
    write_whoami_plugin(base / "plugins")
    server = start_pbk(base / "pb_data", 2, ("--pluginsDir", str(base / "plugins")))
    try:
        yield server
    finally:
        server.stop()


def sign_in_and_ask_the_worker(url: str, path: str) -> tuple[int, int]:
    """A wrong password on a new connection, then which worker served that connection."""
    with httpx.Client(base_url=url, timeout=30) as client:
        status = client.post(path, json=WRONG_LOGIN).status_code
        return status, client.get(WHOAMI).json()["worker"]


def test_the_third_wrong_password_is_refused_whichever_worker_answers(two_workers: LiveServer) -> None:
    token = superuser_token(two_workers.url, EMAIL, PASSWORD)
    rule = {"label": "*:auth", "maxRequests": 2, "duration": 60}
    saved = httpx.patch(f"{two_workers.url}/api/settings", headers={"Authorization": token},
                        json={"rateLimits": {"enabled": True, "rules": [rule]}}, timeout=30)
    assert saved.status_code == 200, saved.text
    signin = "/api/collections/users/auth-with-password"
    answers = [sign_in_and_ask_the_worker(two_workers.url, signin) for _ in range(2)]
    while {worker for _, worker in answers[2:]} != {0, 1} and len(answers) < 40:
        answers.append(sign_in_and_ask_the_worker(two_workers.url, signin))
    assert [status for status, _ in answers[:2]] == [400, 400]
    assert {worker for _, worker in answers[2:]} == {0, 1}, answers
    assert {status for status, _ in answers[2:]} == {429}
    # Another collection's sign-ins are counted apart, as in PocketBase.
    assert sign_in_and_ask_the_worker(two_workers.url, "/api/collections/_superusers/auth-with-password")[0] == 400
