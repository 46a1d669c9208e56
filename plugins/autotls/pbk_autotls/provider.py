"""The ``acme`` TLS certificate provider: what ``pbk serve DOMAIN...`` serves.

Every worker keeps the certificates it serves in memory and reloads one when its cache file
changes; the leader (``app.cluster.lead()``, one process for all workers) also obtains what is
missing and renews what is due, in the background, one name at a time, and writes it to the
cache where the others pick it up. So a certificate is ordered once however many workers
serve, and a renewed one is served without a restart.

Names are obtained at start (the domains given) or when a client first asks for them in a
handshake (PocketBase's implicit ``www.`` names, as autocert does for every name); that
handshake fails, the next ones after issuance succeed. A name that cannot be obtained is
logged in one line and tried again later (after 1 minute, then twice as long each time, up to
an hour), while the others are served; so is a certificate the CA issued that cannot be
served (not valid yet by this machine's clock, or not for the name). An unexpected error is
logged with its traceback the first time, then in one line, and backs off alike.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import ssl
import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from pbk_sdk.interfaces import App
from pbk_sdk.tls import CHALLENGE_PREFIX, certificate_name

from .cache import CACHE_DIR_NAME, Certificate, CertificateCache
from .issuer import LETS_ENCRYPT_DIRECTORY, ORDER_SECONDS, AcmeServer, IssuanceError, obtain

log = logging.getLogger(__name__)

T = TypeVar("T")

DIRECTORY_VARIABLE = "PBK_ACME_DIRECTORY"
CA_BUNDLE_VARIABLE = "PBK_ACME_CA_BUNDLE"
#: autocert's default RenewBefore: renew 30 days before expiry (a third of a shorter lifetime).
RENEW_BEFORE = timedelta(days=30)
#: How often the cache is looked at: often while a name is not served yet, so that the other
#: workers serve what the leader obtained at once; else for renewals, the leader's and their own.
MISSING_CHECK_SECONDS = 1.0
CHECK_SECONDS = 60.0
FIRST_RETRY_SECONDS = 60.0
LAST_RETRY_SECONDS = 3600.0
WANT_CHANNEL = "autotls.want"  # a worker was asked for an on-demand name
ISSUED_CHANNEL = "autotls.issued"  # the leader put a new certificate in the cache


def acme_server() -> AcmeServer:
    """The CA from ``PBK_ACME_DIRECTORY`` and ``PBK_ACME_CA_BUNDLE`` (Let's Encrypt by default)."""
    return AcmeServer(
        os.environ.get(DIRECTORY_VARIABLE) or LETS_ENCRYPT_DIRECTORY,
        os.environ.get(CA_BUNDLE_VARIABLE) or None,
    )


def renewal_due(certificate: Certificate, now: datetime) -> bool:
    lifetime = certificate.not_after - certificate.not_before
    return now >= certificate.not_after - min(RENEW_BEFORE, lifetime / 3)


class AcmeCertificates:
    """``pbk_sdk.interfaces.TlsCertificates`` over ACME, cached in ``pb_data/.autocert_cache``."""

    def __init__(self, app: App) -> None:
        self._app = app
        self._cache = CertificateCache(app.data_dir / CACHE_DIR_NAME)
        self._server = acme_server()
        self._served: dict[str, Certificate] = {}
        self._stamps: dict[str, tuple[int, int] | None] = {}
        self._wanted: set[str] = set()
        self._on_demand: frozenset[str] = frozenset()
        self._retries: dict[str, tuple[float, float]] = {}  # name: (not before, next delay)
        self._round_failed = False
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self, domains: Sequence[str], *, on_demand: Sequence[str] = ()) -> None:
        for name in (*domains, *on_demand):  # they name cache entries: never a path, nor an IP
            if certificate_name(name) != name:
                raise ValueError(f"cannot obtain a certificate for {name!r}: not in its ASCII, lower-case form")
        self._on_demand = frozenset(on_demand)
        if self._app.cluster.lead():
            stale = datetime.now(UTC) - timedelta(seconds=2 * ORDER_SECONDS)
            await asyncio.to_thread(self._cache.delete_stale_http_tokens, stale)
        # An on-demand name obtained before is served (and renewed) from the start.
        cached = await asyncio.to_thread(lambda: {name for name in on_demand if self._cache.stamp(name)})
        self._wanted = set(domains) | cached
        self._app.cluster.on_message(WANT_CHANNEL, self._wanted_elsewhere)
        self._app.cluster.on_message(ISSUED_CHANNEL, self._issued_elsewhere)
        await self._reload()
        self._task = asyncio.create_task(self._keep(), name="autotls")

    def server_context(self, server_name: str) -> ssl.SSLContext | None:
        certificate = self._served.get(server_name)
        if certificate is None and server_name in self._on_demand and server_name not in self._wanted:
            self._want(server_name)
            self._app.cluster.broadcast(WANT_CHANNEL, server_name.encode())
        if certificate is None or datetime.now(UTC) > certificate.not_after:
            return None
        return certificate.context

    async def http_challenge(self, path: str) -> bytes | None:
        token = path.removeprefix(CHALLENGE_PREFIX)
        return await asyncio.to_thread(self._cache.http_token, token)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    # ------------------------------------------------------------------ the background work

    async def _wanted_elsewhere(self, worker: int, data: bytes) -> None:
        name = data.decode()
        if name in self._on_demand:
            self._want(name)

    async def _issued_elsewhere(self, worker: int, data: bytes) -> None:
        self._stamps.pop(data.decode(), None)
        self._wake.set()  # read the cache now rather than at the next check

    def _want(self, name: str) -> None:
        self._wanted.add(name)
        self._wake.set()

    async def _keep(self) -> None:
        while True:
            try:
                await self._reload()
                if self._app.cluster.lead():
                    await self._obtain_due()
            except Exception as exc:  # the loop must outlive one bad round; the log says why
                if self._round_failed:  # once with the traceback, not every second
                    log.error("autotls: checking the certificates failed again: %s", _describe(exc))
                else:
                    log.exception("autotls: checking the certificates failed")
                self._round_failed = True
            else:
                self._round_failed = False
            missing = self._wanted - self._served.keys()
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), MISSING_CHECK_SECONDS if missing else CHECK_SECONDS)

    async def _reload(self) -> None:
        """Load what changed in the cache since it was last looked at."""
        for name in sorted(self._wanted):
            stamp = await asyncio.to_thread(self._cache.stamp, name)
            if name in self._stamps and stamp == self._stamps[name]:
                continue
            certificate = await asyncio.to_thread(self._cache.certificate, name, datetime.now(UTC))
            self._stamps[name] = stamp
            if certificate is None:
                self._served.pop(name, None)
            else:
                self._served[name] = certificate

    async def _obtain_due(self) -> None:
        loop = asyncio.get_running_loop()
        for name in sorted(self._wanted):
            certificate = self._served.get(name)
            if certificate is not None and not renewal_due(certificate, datetime.now(UTC)):
                continue
            not_before, delay = self._retries.get(name, (0.0, FIRST_RETRY_SECONDS))
            if loop.time() < not_before:
                continue
            action, doing = ("renew", "renewing") if certificate is not None else ("obtain", "obtaining")
            log.info("autotls: %s a certificate for %s from %s", doing, name, self._server.directory)
            failing = name in self._retries
            self._retries[name] = (loop.time() + delay, min(delay * 2, LAST_RETRY_SECONDS))
            try:
                await _on_daemon_thread(obtain, self._server, self._cache, name)
            except (IssuanceError, ValueError, OSError) as exc:
                log.error("autotls: cannot %s a certificate for %s: %s (retrying in %d s)", action, name, exc, delay)
                continue
            except Exception as exc:  # a CA answering what the ACME client did not expect
                log.error("autotls: cannot %s a certificate for %s: unexpected error %s (retrying in %d s)",
                          action, name, _describe(exc), delay, exc_info=not failing)
                continue
            self._app.cluster.broadcast(ISSUED_CHANNEL, name.encode())
            self._stamps.pop(name, None)
            await self._reload()
            if name not in self._served:
                log.error("autotls: a certificate for %s was issued but is not usable; is the clock right? "
                          "(retrying in %d s)", name, delay)
                continue
            self._retries.pop(name, None)


def _describe(exc: BaseException) -> str:
    message = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


def _on_daemon_thread(fn: Callable[..., T], *args: Any) -> asyncio.Future[T]:
    """``fn(*args)`` on a thread of its own that does not hold up the process's exit (a stop
    during an order does not wait for the CA; cache entries are written whole or not at all)."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()

    def deliver(result: Any, error: BaseException | None) -> None:
        if future.cancelled():
            return
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)

    def run() -> None:
        try:
            outcome: tuple[Any, BaseException | None] = (fn(*args), None)
        except BaseException as exc:  # noqa: BLE001 - handed to the awaiting coroutine
            outcome = (None, exc)
        with contextlib.suppress(RuntimeError):  # the loop is closed: nobody waits any more
            loop.call_soon_threadsafe(deliver, *outcome)

    threading.Thread(target=run, name="pbk-autotls", daemon=True).start()
    return future
