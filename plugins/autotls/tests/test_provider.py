"""The leader's retries, with the provider run in-process as the only worker: every failure,
expected or not, and a certificate issued but not usable, backs off instead of ordering again
at each check (every second while a name is missing)."""

from __future__ import annotations

import asyncio
import datetime
import http.server
import json
import logging
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from pbk_autotls import provider
from pbk_autotls.provider import AcmeCertificates
from pebble_server import certificate, pem

DOMAIN = "pbk.example.test"
#: Long enough for three checks of a missing name, which failed to back off before.
WATCH_SECONDS = 3.5


class LeaderCluster:
    """``app.cluster`` of a server with one worker: it leads, nobody else listens."""

    def lead(self) -> bool:
        return True

    def broadcast(self, channel: str, data: bytes) -> None:
        pass

    def on_message(self, channel: str, handler: Callable[..., Any]) -> None:
        pass


class OneWorkerApp:
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.cluster = LeaderCluster()


def served_after(data_dir: Path, seconds: float) -> bool:
    """Run the provider for ``DOMAIN`` for ``seconds``; whether it serves a certificate then."""

    async def run() -> bool:
        certificates = AcmeCertificates(OneWorkerApp(data_dir))  # type: ignore[arg-type]
        await certificates.start([DOMAIN])
        try:
            await asyncio.sleep(seconds)
            return certificates.server_context(DOMAIN) is not None
        finally:
            await certificates.stop()

    return asyncio.run(run())


@pytest.fixture
def directory_without_new_account(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A real HTTP server answering every request with ``{}``: an ACME directory that names no
    endpoint, which the ACME client meets with a KeyError."""

    class EmptyDirectory(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = json.dumps({}).encode()
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), EmptyDirectory)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv(provider.DIRECTORY_VARIABLE, f"http://127.0.0.1:{server.server_port}/directory")
    yield
    server.shutdown()
    server.server_close()


def test_an_unexpected_ca_error_backs_off_with_one_traceback(directory_without_new_account, tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="pbk_autotls")
    assert not served_after(tmp_path, WATCH_SECONDS)
    failures = [r for r in caplog.records if "cannot obtain" in r.getMessage()]
    assert len(failures) == 1, [r.getMessage() for r in caplog.records]
    assert "unexpected error KeyError" in failures[0].getMessage()
    assert failures[0].getMessage().endswith("(retrying in 60 s)")
    assert failures[0].exc_info is not None  # the traceback, this first time


def issuing(not_before: datetime.timedelta, orders: list[str]) -> Callable[..., None]:
    """``issuer.obtain`` of a CA whose certificates start ``not_before`` from now. pebble's
    clock is this machine's, so a CA ahead of it is played here, writing what it would issue."""

    def obtain(server: Any, cache: Any, domain: str) -> None:
        orders.append(domain)
        now = datetime.datetime.now(datetime.UTC)
        ca = certificate("a CA", [])
        leaf, key = certificate(domain, [x509.DNSName(domain)], issuer=ca, not_before=now + not_before,
                                not_after=now + datetime.timedelta(days=90))
        cache.put_certificate(domain, key, pem(leaf) + pem(ca[0]))

    return obtain


def test_a_certificate_issued_but_not_valid_yet_is_logged_once_and_not_ordered_again(
        monkeypatch, tmp_path, caplog):
    orders: list[str] = []
    monkeypatch.setattr(provider, "obtain", issuing(datetime.timedelta(hours=1), orders))
    assert not served_after(tmp_path, WATCH_SECONDS)
    assert orders == [DOMAIN]
    [line] = [r.getMessage() for r in caplog.records if "not usable" in r.getMessage()]
    assert line == (f"autotls: a certificate for {DOMAIN} was issued but is not usable; is the clock right? "
                    "(retrying in 60 s)")


def test_a_certificate_valid_from_minutes_ahead_is_served(monkeypatch, tmp_path):
    orders: list[str] = []
    monkeypatch.setattr(provider, "obtain", issuing(datetime.timedelta(minutes=2), orders))
    assert served_after(tmp_path, 1.0)
    assert orders == [DOMAIN]
