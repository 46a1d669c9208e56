"""``pbk serve``: the app under uvicorn, started before it accepts connections; with ``--workers``
several such processes under a supervisor (``pbk.workers``)."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import logging
import os
import re
import signal
import socket
import sys
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

import click
import httptools
import orjson
import uvicorn
from pbk_sdk.errors import ApiError
from pbk_sdk.events import SERVE, ServeEvent
from uvicorn.protocols.http.flow_control import FlowControl
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from .app import App
from .config import parse_address
from .http import HTTP_METHODS, SECURITY_HEADERS
from .tls import TlsServing, base_url, check_provider

log = logging.getLogger(__name__)

GRACEFUL_SHUTDOWN_SECONDS = 3
#: How long an idle kept-alive connection stays open. Longer than clients keep theirs (httpx 5 s,
#: Node's undici 4 s), so a client never reuses a connection the server is closing (a POST
#: then fails with a reset); uvicorn's own 5 s equals httpx's. PocketBase keeps them 10 minutes.
KEEP_ALIVE_SECONDS = 75
#: Python's default first threshold (700 allocations) runs a collection every few requests.
GC_THRESHOLDS = (20_000, 20, 20)
#: Go's net/http default, which PocketBase keeps: a request line and headers past 1 MiB are
#: refused with 431 instead of being buffered.
MAX_HEADER_BYTES = 1 << 20
#: How often (in uvicorn's 0.1 s ticks) connections are checked against their read deadline.
DEADLINE_CHECK_TICKS = 5

#: Request lines llhttp parses as they are; any other method token goes through a stand-in.
_NATIVE_REQUEST_STARTS = tuple(f"{method} ".encode() for method in (*HTTP_METHODS, "OPTIONS"))
_STAND_IN_METHOD = b"POST"
_METHOD_TOKEN = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")  # RFC 9110 tchar
_NON_ASCII_BYTE = re.compile(rb"[\x80-\xff]")
#: The longest request target ``httptools.parse_url`` takes (its offsets are 16-bit).
_PARSE_URL_MAX = 0xFFFF


def _envelope_response(status: int, message: str = "") -> bytes:
    """A complete response carrying ``ApiError``'s envelope, closing the connection."""
    body = orjson.dumps(ApiError(status, message).to_json())
    head = [
        f"HTTP/1.1 {status} {HTTPStatus(status).phrase}",
        "Content-Type: application/json",
        *(f"{name}: {value}" for name, value in SECURITY_HEADERS.items()),
        "Vary: Origin",
        f"Content-Length: {len(body)}",
        "Connection: close",
    ]
    return "\r\n".join(head).encode() + b"\r\n\r\n" + body


_BAD_REQUEST = _envelope_response(400)
_HEADERS_TOO_LARGE = _envelope_response(431, "Request header fields too large.")
#: HTTP/2.0 over cleartext (prior knowledge, the ``PRI`` preface) is refused with 505 as Go's
#: server does; HTTP/0.9 with 400. llhttp itself refuses every other version.
_VERSION_NOT_SUPPORTED = _envelope_response(505, "HTTP version not supported.")
_SERVED_VERSIONS = ("1.1", "1.0")


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

    def is_closing(self) -> bool:
        # Asked twice a response: spelled out, as ``__getattr__`` runs only after a failed lookup.
        return self._transport.is_closing()

    def __getattr__(self, name: str) -> object:
        return getattr(self._transport, name)


class _TimedFlow(FlowControl):
    """uvicorn's flow control, also keeping the time during which the connection was read.

    Reading pauses while the server is busy (answering an earlier pipelined request, or the
    app not yet taking a body), so read deadlines measured on this clock charge a client only
    for the time it takes to send, never for the time the server takes to answer.
    """

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(transport)
        self._loop = loop
        self._paused_at = 0.0
        self._paused_for = 0.0

    def reading_time(self) -> float:
        """The loop's time less the time reading was paused."""
        now = self._paused_at if self.read_paused else self._loop.time()
        return now - self._paused_for

    def pause_reading(self) -> None:
        if not self.read_paused:
            self.read_paused = True
            self._paused_at = self._loop.time()
            self._transport.pause_reading()

    def resume_reading(self) -> None:
        if self.read_paused:
            self.read_paused = False
            self._paused_for += self._loop.time() - self._paused_at
            self._transport.resume_reading()


class _Refused(httptools.HttpParserError):
    """Raised from a parser callback to stop parsing a request refused with ``_refusal``."""


@dataclass(frozen=True)
class ReadTimeouts:
    """How long a client may take to send a request: its head, and the whole of it."""

    header: float
    request: float


def _percent_encoded(byte: re.Match[bytes]) -> bytes:
    return b"%%%02X" % byte[0][0]


class _HttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with PocketBase's edges.

    - Any method token reaches the app, which answers ``get`` or ``FOO`` with its 404 envelope
      as PocketBase's router does; llhttp only knows a fixed list of upper-case methods, so it
      parses a stand-in and the scope gets the token the client sent.
    - Raw non-ASCII bytes in the request target are percent-encoded rather than failing it.
      Both are done on the request line before llhttp sees it; the common request (a known
      method, an ASCII line) passes untouched.
    - Targets past 64 KiB, which ``httptools.parse_url`` cannot split, are split here (Go
      takes them up to the head limit).
    - A request head past ``MAX_HEADER_BYTES`` is refused with 431, HTTP/2.0 with 505,
      anything else the parser refuses with 400, all in the envelope.
    - An ``Upgrade`` request (pbk speaks neither WebSocket nor h2c) is answered as a plain one,
      as Go's server does, then the connection closes: llhttp reads nothing after it.
    - A client that has not sent a request's head within ``timeouts.header`` seconds, or the
      whole request within ``timeouts.request``, is disconnected, so idle or stalled clients
      cannot hold connections (and their buffers) open. ``_Server`` checks the deadlines.
      A request pipelined behind one the server is still answering is read once that is
      answered (as Go's server does), and the time in between is not the client's.
    """

    flow: _TimedFlow

    def __init__(self, *args: Any, timeouts: ReadTimeouts, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._header_timeout = timeouts.header
        self._request_timeout = timeouts.request
        self._between_messages = True
        self._unfinished_line = b""
        self._sent_method: str | None = None
        self._head_done = False
        self._head_bytes = 0
        self._refusal = _BAD_REQUEST
        self._reading_since = 0.0
        self.read_deadline: float | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(_CoalescingTransport(transport, self.loop))  # type: ignore[arg-type]
        self.flow = _TimedFlow(self.transport, self.loop)
        self._start_reading()

    def data_received(self, data: bytes) -> None:
        if self._between_messages or self._unfinished_line:
            if self.read_deadline is None:  # a kept-alive connection's next request
                self._start_reading()
            # The common request: a known method, the request line whole, all ASCII.
            if self._unfinished_line or not (
                data.startswith(_NATIVE_REQUEST_STARTS) and b"\n" in data and data.isascii()
            ):
                data = self._parseable_start(self._unfinished_line + data)
                if not data:
                    return
        if not self._head_done:
            self._head_bytes += len(data)
        super().data_received(data)
        if not self._head_done and self._head_bytes > MAX_HEADER_BYTES:
            self._refuse(_HEADERS_TOO_LARGE)

    def _parseable_start(self, data: bytes) -> bytes:
        """``data``, the start of a request, with a request line llhttp parses (b"" while the
        line is still arriving): a stand-in for a method it does not know, non-ASCII bytes of
        the target percent-encoded."""
        self._unfinished_line = b""
        start = len(data) - len(data.lstrip(b"\r\n"))  # llhttp skips blank lines first
        line_end = data.find(b"\n", start)
        if line_end < 0:
            if len(data) > MAX_HEADER_BYTES:
                self._refuse(_HEADERS_TOO_LARGE)
            else:
                self._unfinished_line = data
            return b""
        native = data.startswith(_NATIVE_REQUEST_STARTS, start)
        if native and data[start:line_end].isascii():
            return data
        method, space, rest = data[start:line_end].partition(b" ")
        if not native and method and space and _METHOD_TOKEN.fullmatch(method):
            self._sent_method = method.decode("ascii")
            method = _STAND_IN_METHOD
        rest = _NON_ASCII_BYTE.sub(_percent_encoded, rest)
        return data[:start] + method + space + rest + data[line_end:]

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._between_messages = False
        if self.read_deadline is None:
            self._start_reading()
        if self._behind_an_answer():
            self.flow.pause_reading()

    def _behind_an_answer(self) -> bool:
        """Whether the request being read waits for the server to answer an earlier one."""
        if self.pipeline:  # requests read whole, waiting for their turn
            return True
        earlier = self.cycle  # while a head is read, the latest request read before it
        return not self._head_done and earlier is not None and not earlier.response_complete

    def on_response_complete(self) -> None:
        super().on_response_complete()  # resumes reading, starts the next pipelined request
        if not self._between_messages and not self.transport.is_closing() and self._behind_an_answer():
            self.flow.pause_reading()

    def on_headers_complete(self) -> None:
        self._head_done = True
        # Bytes fed while the head arrived bound its size from above; count exactly past that.
        if self._head_bytes > MAX_HEADER_BYTES and self._head_size() > MAX_HEADER_BYTES:
            self._refusal = _HEADERS_TOO_LARGE
            raise _Refused  # the parser stops; uvicorn calls send_400_response
        if (version := self.parser.get_http_version()) not in _SERVED_VERSIONS:
            self._refusal = _BAD_REQUEST if version < "1" else _VERSION_NOT_SUPPORTED
            raise _Refused
        self._head_bytes = 0
        self.read_deadline = self._reading_since + self._request_timeout
        if self._sent_method is None and len(self.url) <= _PARSE_URL_MAX:
            super().on_headers_complete()
            return
        target = self.url
        if len(target) > _PARSE_URL_MAX:
            self.url = b"/"  # a stand-in; the scope gets the real target below
        super().on_headers_complete()
        if len(target) > _PARSE_URL_MAX:
            self._set_target(target)
        if self._sent_method is not None:
            self.scope["method"], self._sent_method = self._sent_method, None

    def _head_size(self) -> int:
        return len(self.url) + sum(len(name) + len(value) + 4 for name, value in self.headers)

    def _set_target(self, target: bytes) -> None:
        parts = urllib.parse.urlsplit(target)
        path = parts.path.decode("ascii")
        self.scope["path"] = self.root_path + (urllib.parse.unquote(path) if "%" in path else path)
        self.scope["raw_path"] = self.root_path.encode("ascii") + parts.path
        self.scope["query_string"] = parts.query

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._between_messages = True
        self._head_done = False
        self.read_deadline = None

    def _start_reading(self) -> None:
        self._reading_since = self.flow.reading_time()
        self.read_deadline = self._reading_since + self._header_timeout

    def drop_if_late(self) -> None:
        """Disconnect a client whose request has not arrived by its deadline (as Go's server
        does, without an answer: the client is not listening, or is an attack)."""
        if self.read_deadline is not None and self.flow.reading_time() > self.read_deadline:
            log.debug("dropping %s: request not received in time", self.client)
            self.read_deadline = None
            self.transport.close()

    def send_400_response(self, msg: str) -> None:
        self._refuse(_HEADERS_TOO_LARGE if self._head_bytes > MAX_HEADER_BYTES else self._refusal)

    def _unsupported_upgrade_warning(self) -> None:
        """Called instead of upgrading (pbk serves no WebSocket): close once answered."""
        if self.cycle.response_complete:
            self.transport.close()
        else:
            self.cycle.keep_alive = False

    def _refuse(self, response: bytes) -> None:
        self.read_deadline = None
        if not self.transport.is_closing():
            self.transport.write(response)
            self.transport.close()


class _Server(uvicorn.Server):
    """Prints PocketBase's banner once the socket is bound (a worker tells its supervisor,
    which prints it once for all)."""

    def __init__(self, config: uvicorn.Config, app: App, *, worker: bool,
                 redirect: tuple[uvicorn.Config, socket.socket] | None = None) -> None:
        super().__init__(config)
        self.pbk_app = app
        self.worker = worker
        self.redirect = redirect

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

    async def on_tick(self, counter: int) -> bool:
        if counter % DEADLINE_CHECK_TICKS == 0:
            for connection in list(self.server_state.connections):
                if isinstance(connection, _HttpProtocol):
                    connection.drop_if_late()
        return await super().on_tick(counter)

    async def startup(self, sockets: list | None = None) -> None:  # type: ignore[type-arg]
        await super().startup(sockets)
        if self.started and self.redirect is not None:
            await self._listen_for_redirects(*self.redirect)
        if self.started and self.worker:
            self.pbk_app.cluster.ready()
        elif self.started:
            click.echo(start_banner(self.pbk_app))

    async def _listen_for_redirects(self, config: uvicorn.Config, sock: socket.socket) -> None:
        """Serve the HTTP listener beside HTTPS, its connections kept and closed with the rest."""
        config.load()

        def protocol() -> asyncio.Protocol:
            return config.http_protocol_class(  # type: ignore[call-arg]
                config=config, server_state=self.server_state, app_state={})

        loop = asyncio.get_running_loop()
        self.servers.append(await loop.create_server(protocol, sock=sock, backlog=config.backlog))


def start_banner(app: App, workers: int = 1) -> str:
    """PocketBase's start banner: the URL, the REST API, the plugins' lines, the worker count."""
    base = base_url(app.config)
    lines = [("REST API", "/api/")]
    lines += [line for _, plugin_lines in app.call_hook("pbk_banner_lines", app=app) for line in plugin_lines]
    rows = [(f"{label}:", f"{base}{path}") for label, path in lines]
    if workers > 1:
        rows.append(("Workers:", f"{workers} processes"))
    width = max(len(label) for label, _ in rows) + 1
    tree = [f"{'└─' if index == len(rows) - 1 else '├─'} {label:<{width}}{value}"
            for index, (label, value) in enumerate(rows)]
    return "\n".join([f"Server started at {base}", *tree])


def serve(app: App, workers: int = 1) -> None:
    """Serve ``app`` until SIGINT/SIGTERM, then stop it gracefully; exit 1 if it cannot start."""
    from .workers import Supervisor, listening_sockets

    if app.config.https:
        check_provider(app)
    if workers > 1:
        sys.exit(Supervisor(app, workers, run).run())
    # Bound first: a second server on the same address stops here, before touching the data dir.
    [sock] = listening_sockets(app.config.https or app.config.http, 1)
    redirect_sock = listening_sockets(app.config.http, 1)[0] if app.config.https else None
    unproven = app.prepare_data_dir()
    try:
        started = run(app, sock, redirect_sock=redirect_sock)
    except Exception:
        if not unproven:
            raise
        log.exception("the server could not start on the prepared data dir")
        started = False
    if not started:
        if unproven and app.prepare_data_dir(after_failed_start=True):
            log.error("the first start on the prepared data dir failed; starting again on the previous data")
            _start_afresh(sock, redirect_sock)
        sys.exit(1)
    if app.cluster.restart_requested:  # app.cluster.restart(): start afresh, as PocketBase does
        _start_afresh(sock, redirect_sock)


def _start_afresh(*sockets: socket.socket | None) -> None:
    """Re-execute this process (``pbk serve`` as it was started), the listening sockets closed."""
    for listening in sockets:
        if listening is not None:
            listening.close()
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, [sys.executable, *sys.orig_argv[1:]])


def run(app: App, sock: socket.socket, *, worker: bool = False, redirect_sock: socket.socket | None = None) -> bool:
    """Start ``app`` and serve it on ``sock`` (as one of several workers, or alone), HTTPS
    when ``--https`` is set, with the HTTP listener on ``redirect_sock``; False if the server
    never started."""
    tls = TlsServing(app) if app.config.https else None
    asgi = tls.redirect_www(app.asgi) if tls else app.asgi
    config = _uvicorn_config(app, asgi)
    if tls is not None:
        tls_context = tls.context()
        config.ssl_context_factory = lambda *_: tls_context
    redirect = (_uvicorn_config(app, tls.http_listener), redirect_sock) if tls and redirect_sock else None
    server = _Server(config, app, worker=worker, redirect=redirect)

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
                if tls is not None:
                    await tls.start()
                address = app.config.https or app.config.http
                await app.events.trigger(SERVE, ServeEvent(app=app, address=address, url=base_url(app.config)))
                await server.serve(sockets=[sock])
            finally:
                if tls is not None:
                    await tls.stop()
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


def _uvicorn_config(app: App, asgi: Any) -> uvicorn.Config:
    host, port = parse_address(app.config.http)
    return uvicorn.Config(
        asgi,
        host=host,
        port=port,
        interface="asgi3",
        lifespan="off",  # the app is started here, so start-up errors are reported plainly
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
        server_header=False,
        # Client addresses come from X-Forwarded-For only under PocketBase's trustedProxy
        # setting, never because a request came from loopback (uvicorn's default).
        proxy_headers=False,
        ws="none",  # pbk serves no WebSocket: an upgrade request is answered as a plain one
        http=functools.partial(  # type: ignore[arg-type]  # uvicorn calls it like the class
            _HttpProtocol,
            timeouts=ReadTimeouts(app.config.read_header_timeout, app.config.read_timeout),
        ),
    )
