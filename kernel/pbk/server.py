"""``pbk serve``: the app under uvicorn, started before it accepts connections; with ``--workers``
several such processes under a supervisor (``pbk.workers``)."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import signal
import socket
import sys
from collections.abc import Iterator

import click
import uvicorn
from pbk_sdk.events import SERVE, ServeEvent
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from .app import App
from .config import parse_address

GRACEFUL_SHUTDOWN_SECONDS = 3
#: How long an idle kept-alive connection stays open. Longer than clients keep theirs (httpx 5 s,
#: Node's undici 4 s), so a client never reuses a connection the server is closing (a POST
#: then fails with a reset); uvicorn's own 5 s equals httpx's. PocketBase keeps them 10 minutes.
KEEP_ALIVE_SECONDS = 75
#: Python's default first threshold (700 allocations) runs a collection every few requests.
GC_THRESHOLDS = (20_000, 20, 20)


class _CoalescingTransport:
    """A transport that sends a response's head together with the first write after it.

    uvicorn writes a response's head and its body separately; each write is a syscall made
    with the GIL held and, with TCP_NODELAY, a TCP segment of its own. Held back until the body
    comes (or the loop turn ends, for a HEAD answer), a small response costs one of each. Other
    writes, such as the events of a stream, go straight through; everything else goes to the
    real transport.
    """

    __slots__ = ("_head", "_loop", "_transport")

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._head: bytes | None = None

    def write(self, data: bytes) -> None:
        if self._head is not None:
            data, self._head = self._head + data, None
        elif data.startswith(b"HTTP/"):  # a status line: uvicorn's response head
            self._head = data
            self._loop.call_soon(self._flush)
            return
        self._transport.write(data)

    def _flush(self) -> None:
        if self._head is not None:
            head, self._head = self._head, None
            if not self._transport.is_closing():
                self._transport.write(head)

    def close(self) -> None:
        self._flush()
        self._transport.close()

    def __getattr__(self, name: str) -> object:
        return getattr(self._transport, name)


class _HttpProtocol(HttpToolsProtocol):
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(_CoalescingTransport(transport, self.loop))  # type: ignore[arg-type]


class _Server(uvicorn.Server):
    """Prints PocketBase's banner once the socket is bound (a worker tells its supervisor,
    which prints it once for all)."""

    def __init__(self, config: uvicorn.Config, app: App, *, worker: bool) -> None:
        super().__init__(config)
        self.address = app.config.http
        self.pbk_app = app
        self.worker = worker

    async def shutdown(self, sockets: list | None = None) -> None:  # type: ignore[type-arg]
        # Let long-lived responses (realtime streams) end before uvicorn waits for them.
        await self.pbk_app.terminate()
        await super().shutdown(sockets)

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        """Stop gracefully on SIGINT/SIGTERM and exit 0 afterwards.

        uvicorn re-raises the signal once it has shut down, which would kill the process
        before the app's shutdown hooks run; pbk stops the app after the server instead.
        """
        previous = {sig: signal.signal(sig, self.handle_exit) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    async def startup(self, sockets: list | None = None) -> None:  # type: ignore[type-arg]
        await super().startup(sockets)
        if self.started and self.worker:
            self.pbk_app.cluster.ready()
        elif self.started:
            base = f"http://{self.address}"
            click.echo(f"Server started at {base}\n└─ REST API:  {base}/api/")


def serve(app: App, workers: int = 1) -> None:
    """Serve ``app`` until SIGINT/SIGTERM, then stop it gracefully; exit 1 if it cannot start."""
    from .workers import Supervisor, listening_sockets

    if workers > 1:
        sys.exit(Supervisor(app, workers, run).run())
    [sock] = listening_sockets(app.config.http, 1)
    if not run(app, sock):
        sys.exit(1)


def run(app: App, sock: socket.socket, *, worker: bool = False) -> bool:
    """Start ``app`` and serve it on ``sock`` (as one of several workers, or alone); False if
    the server never started."""
    host, port = parse_address(app.config.http)
    config = uvicorn.Config(
        app.asgi,
        host=host,
        port=port,
        lifespan="off",  # the app is started here, so start-up errors are reported plainly
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
        server_header=False,
        http=_HttpProtocol,
    )
    server = _Server(config, app, worker=worker)

    def supervisor_lost() -> None:
        server.should_exit = True

    async def main() -> None:
        await app.cluster.connect(on_lost=supervisor_lost)
        try:
            await app.start()
            # What start-up made (modules, schema, settings) lives as long as the process: keep
            # the cyclic collector from walking it again and again. Requests make few cycles.
            gc.freeze()
            gc.set_threshold(*GC_THRESHOLDS)
            try:
                await app.events.trigger(SERVE, ServeEvent(app=app, address=app.config.http))
                await server.serve(sockets=[sock])
            finally:
                await app.stop()
        finally:
            await app.cluster.close()

    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency, but optional at runtime
        asyncio.run(main())
    else:
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            runner.run(main())
    return server.started
