"""What the HTTP server refuses and when it hangs up, on a live ``pbk serve`` over raw sockets.

Request heads past 1 MiB get 431; a client that does not send its head within the header
timeout, or its whole request within the read timeout, is disconnected (PocketBase: 60 s and
5 min; shortened here through the flags). Requests llhttp cannot parse as sent (lower-case or
unknown methods, raw non-UTF-8 bytes) reach the app and get the answer the real PocketBase
binary gives; ``X-Forwarded-For`` never changes the client address.
"""

from __future__ import annotations

import contextlib
import json
import re
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest
from pbk.config import Config
from pbk_sdk.testing import LiveServer

HEADER_TIMEOUT = 1.0
READ_TIMEOUT = 2.0
#: How long a test waits for the server to hang up: the timeout, the server's deadline check
#: (every half second) and room for a loaded machine.
HANG_UP_WITHIN = 6.0
MIB = 1 << 20
HEALTH_REQUEST = b"GET /api/health HTTP/1.1\r\nHost: x\r\n\r\n"
TOO_LARGE = {"data": {}, "message": "Request header fields too large.", "status": 431}

CLIENT_ADDRESS_PLUGIN = '''
import asyncio

from pbk_sdk import PluginInfo, Route, hookimpl

PLUGIN = PluginInfo(name="whoami")


BODIES = []  # the bodies the POST responder read whole


class WhoAmI:
    async def on_get(self, req, resp):
        resp.media = {"ip": req.remote_addr, "bodies": BODIES}

    async def on_post(self, req, resp):
        BODIES.append((await req.stream.read()).decode())
        resp.media = {}


class Slow:
    """Answers (and reads a body) after ``?seconds=``: the server busy with a request."""

    async def on_get(self, req, resp):
        await asyncio.sleep(float(req.get_param("seconds")))
        resp.media = {}

    async def on_post(self, req, resp):
        await asyncio.sleep(float(req.get_param("seconds")))
        resp.media = {"length": len(await req.stream.read())}


@hookimpl
def pbk_register_routes(app):
    return [Route("/api/whoami", WhoAmI()), Route("/api/slow", Slow())]
'''


@pytest.fixture
def server(live_server_factory: Any, plugins_dir: Any, write_plugin: Any) -> LiveServer:
    write_plugin("whoami", CLIENT_ADDRESS_PLUGIN)
    return live_server_factory([
        "--pluginsDir", str(plugins_dir), "--plugins", "whoami", "--workers", "1",
        "--readHeaderTimeout", str(HEADER_TIMEOUT), "--readTimeout", str(READ_TIMEOUT),
    ])


def port_of(server: LiveServer) -> int:
    return int(server.url.rsplit(":", 1)[1])


@pytest.fixture
def connect(server: LiveServer) -> Iterator[Any]:
    sockets: list[socket.socket] = []

    def open_connection() -> socket.socket:
        sock = socket.create_connection(("127.0.0.1", port_of(server)), timeout=HANG_UP_WITHIN)
        sockets.append(sock)
        return sock

    yield open_connection
    for sock in sockets:
        sock.close()


def read_response(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """One response (status, lower-cased headers, body) read from ``sock``."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"connection closed after {data!r}"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {name.lower(): value.strip() for name, _, value in (line.partition(":") for line in lines)}
    while len(body) < int(headers.get("content-length", 0)):
        chunk = sock.recv(65536)
        assert chunk, "connection closed in the body"
        body += chunk
    return int(status_line.split()[1]), headers, body


def exchange(connect: Any, raw: bytes) -> tuple[int, dict[str, str], bytes]:
    sock = connect()
    sock.sendall(raw)
    return read_response(sock)


def hung_up_after(sock: socket.socket) -> float:
    """Seconds until the server closes ``sock`` (reading and discarding what it sends)."""
    started = time.monotonic()
    try:
        while sock.recv(65536):
            pass
    except ConnectionResetError:
        pass
    return time.monotonic() - started


def assert_healthy(connect: Any) -> None:
    status, _, body = exchange(connect, HEALTH_REQUEST)
    assert (status, json.loads(body)["code"]) == (200, 200)


# --------------------------------------------------------------------------- header size


def test_a_request_head_past_one_mib_is_refused_with_431_in_the_envelope(connect):
    huge_value = b"GET /api/health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (MIB + 8192) + b"\r\n\r\n"
    many_headers = b"GET /api/health HTTP/1.1\r\nHost: x\r\n" + b"X: y\r\n" * 200_000 + b"\r\n"

    for raw in (huge_value, many_headers):
        status, headers, body = exchange(connect, raw)
        assert (status, json.loads(body)) == (431, TOO_LARGE)
        assert (headers["content-type"], headers["connection"]) == ("application/json", "close")

    assert_healthy(connect)


def test_a_head_under_one_mib_is_answered(connect):
    raw = b"GET /api/health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (MIB - 4096) + b"\r\n\r\n"

    assert exchange(connect, raw)[0] == 200


def test_an_endless_header_line_is_cut_off_after_about_one_mib(connect):
    sock = connect()
    sock.sendall(b"GET /api/health HTTP/1.1\r\nHost: x\r\nX-Endless: ")
    sent, chunk = 0, b"a" * 65536
    with pytest.raises((ConnectionResetError, BrokenPipeError)):  # the server answered, closed
        while sent < 64 * MIB:
            sock.sendall(chunk)
            sent += len(chunk)
    # The server read little more than the limit (the kernel buffers a few MiB in between).
    assert sent < 16 * MIB


# --------------------------------------------------------------------------- read timeouts


def test_a_connection_that_sends_nothing_is_dropped_after_the_header_timeout(connect):
    sock = connect()

    # The server's clock for the half head starts before this client has read both answers, and
    # its deadline check runs every half second: the hang-up comes some time around the timeout.
    assert HEADER_TIMEOUT * 0.5 < hung_up_after(sock) < HANG_UP_WITHIN


def test_half_a_head_is_dropped_after_the_header_timeout(connect):
    sock = connect()
    sock.sendall(b"GET /api/health HTTP/1.1\r\nHost: x\r\n")

    assert hung_up_after(sock) < HANG_UP_WITHIN
    assert_healthy(connect)


def is_closed(sock: socket.socket) -> bool:
    try:
        return sock.recv(1, socket.MSG_DONTWAIT | socket.MSG_PEEK) == b""
    except BlockingIOError:
        return False
    except ConnectionResetError:
        return True


def test_a_head_trickling_in_does_not_extend_the_header_timeout(connect):
    sock = connect()
    started = time.monotonic()
    trickle = iter(HEALTH_REQUEST[:-2] + b"X-Slow: " + b"a" * 1000)
    while not is_closed(sock) and time.monotonic() - started < HANG_UP_WITHIN:
        with contextlib.suppress(ConnectionResetError, BrokenPipeError):
            sock.sendall(bytes([next(trickle)]))
        time.sleep(0.1)

    assert is_closed(sock)
    assert time.monotonic() - started < HANG_UP_WITHIN


def whoami(connect: Any) -> dict[str, Any]:
    status, _, body = exchange(connect, b"GET /api/whoami HTTP/1.1\r\nHost: x\r\n\r\n")
    assert status == 200
    return json.loads(body)  # type: ignore[no-any-return]


@pytest.mark.parametrize("framing", [b"Content-Length: 100\r\n\r\n", b"Transfer-Encoding: chunked\r\n\r\n2\r\n"])
def test_a_body_that_stops_arriving_is_dropped_and_never_handled_cut_short(connect, framing):
    sock = connect()
    sock.sendall(b"POST /api/whoami HTTP/1.1\r\nHost: x\r\n" + framing + b"ab")

    assert hung_up_after(sock) < HANG_UP_WITHIN
    complete = b"POST /api/whoami HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nwhole"
    assert exchange(connect, complete)[0] == 200
    assert whoami(connect)["bodies"] == ["whole"]


def test_an_idle_kept_alive_connection_outlives_the_header_timeout(connect):
    sock = connect()
    sock.sendall(HEALTH_REQUEST)
    assert read_response(sock)[0] == 200

    time.sleep(HEADER_TIMEOUT + 1.5)
    sock.sendall(HEALTH_REQUEST)

    assert read_response(sock)[0] == 200


def slow_request(seconds: float) -> bytes:
    return b"GET /api/slow?seconds=%g HTTP/1.1\r\nHost: x\r\n\r\n" % seconds


def read_statuses(sock: socket.socket, count: int) -> list[int]:
    """The statuses of ``count`` responses pipelined on ``sock`` (bodies sized by Content-Length)."""
    statuses = []
    with sock.makefile("rb") as stream:
        for _ in range(count):
            status_line = stream.readline()
            assert status_line, f"connection closed after {statuses}"
            length = 0
            while (line := stream.readline()) not in (b"\r\n", b""):
                name, _, value = line.partition(b":")
                if name.lower() == b"content-length":
                    length = int(value)
            stream.read(length)
            statuses.append(int(status_line.split()[1]))
    return statuses


# Requests pipelined behind ones the server takes longer than the timeouts to answer, a body
# the app takes longer to read: the server stops reading meanwhile, and that time is not the
# client's.
WHILE_THE_SERVER_IS_BUSY = {
    "a head split behind a pipelined request": (
        slow_request(HEADER_TIMEOUT + 1.5) + HEALTH_REQUEST + HEALTH_REQUEST[:20],
        HEALTH_REQUEST[20:],
        3,
    ),
    "a body behind a slow request": (
        slow_request(READ_TIMEOUT + 1) + b"POST /api/whoami HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n",
        b"whole",
        2,
    ),
    "a body the app takes its time to read": (
        b"POST /api/slow?seconds=%g HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % (READ_TIMEOUT + 1, 4 * MIB)
        + b"a" * 4 * MIB,
        b"",
        1,
    ),
}


@pytest.mark.slow
@pytest.mark.parametrize("case", WHILE_THE_SERVER_IS_BUSY)
def test_time_the_server_spends_busy_is_not_the_clients(connect, case):
    first, rest, answers = WHILE_THE_SERVER_IS_BUSY[case]
    sock = connect()
    sock.sendall(first)
    time.sleep(0.3)
    sock.sendall(rest)

    assert read_statuses(sock, answers) == [200] * answers


@pytest.mark.slow
def test_a_head_is_not_timed_while_the_next_pipelined_request_is_answered(connect):
    sock = connect()
    sock.sendall(slow_request(0.5) + slow_request(HEADER_TIMEOUT + 2) + HEALTH_REQUEST[:20])
    assert read_statuses(sock, 1) == [200]

    time.sleep(HEADER_TIMEOUT + 1)  # the server is still answering the second request
    sock.sendall(HEALTH_REQUEST[20:])

    assert read_statuses(sock, 2) == [200, 200]


@pytest.mark.slow
def test_half_a_head_pipelined_behind_a_slow_request_is_dropped_once_the_server_is_done(connect):
    sock = connect()
    sock.sendall(slow_request(HEADER_TIMEOUT + 0.5) + HEALTH_REQUEST + HEALTH_REQUEST[:20])

    assert read_statuses(sock, 2) == [200, 200]
    # The server's clock for the half head starts before this client has read both answers, and
    # its deadline check runs every half second: the hang-up comes some time around the timeout.
    assert HEADER_TIMEOUT * 0.5 < hung_up_after(sock) < HANG_UP_WITHIN


def test_the_default_timeouts_are_pocketbases():
    assert (Config().read_header_timeout, Config().read_timeout) == (60.0, 300.0)


# --------------------------------------------------------------------------- client address


def test_x_forwarded_for_from_loopback_does_not_change_the_client_address(connect):
    forwarded = b"GET /api/whoami HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 203.0.113.7\r\n\r\n"

    status, _, body = exchange(connect, forwarded)

    assert (status, json.loads(body)["ip"]) == (200, "127.0.0.1")


# --------------------------------------------------------------------------- request lines


@pytest.mark.parametrize(
    ("pieces", "status"),
    [
        ([b"ge", b"t /api/health HTTP/1.1\r\nHost: x\r\n\r\n"], 404),
        ([b"GET /api/he", b"alth?q=\xff HTTP/1.1\r\n", b"Host: x\r\n\r\n"], 200),
    ],
)
def test_a_request_line_arriving_in_pieces_is_read_whole(connect, pieces, status):
    sock = connect()
    for piece in pieces:
        sock.sendall(piece)
        time.sleep(0.2)

    assert read_response(sock)[0] == status


# --------------------------------------------------------------------------- refusals

#: What the HTTP layer refuses before the app sees a request. Go's server answers these in
#: bare text (and the HTTP/2 preface with 400); pbk answers every refusal in the envelope.
REFUSED_REQUESTS = {
    "a broken header": (b"GET /api/health HTTP/1.1\r\nHost: x\r\nBad Header: y\r\n\r\n", 400),
    "a length and chunks": (
        b"POST /api/health HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
        400,
    ),
    "a broken chunk": (b"POST /api/health HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400),
    "HTTP/0.9": (b"GET /\r\n\r\n", 400),
    "HTTP/2.0": (b"GET /api/health HTTP/2.0\r\nHost: x\r\n\r\n", 505),
    "the HTTP/2 preface": (b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 505),
    "HTTP/3.0": (b"GET /api/health HTTP/3.0\r\nHost: x\r\n\r\n", 400),
    "a head past 1 MiB": (b"GET /api/health HTTP/1.1\r\nX: " + b"a" * (MIB + 8192) + b"\r\n\r\n", 431),
}


@pytest.mark.parametrize("case", REFUSED_REQUESTS)
def test_every_refusal_of_the_http_layer_is_in_the_envelope_and_closes(connect, case):
    raw, expected_status = REFUSED_REQUESTS[case]
    sock = connect()
    sock.sendall(raw)

    status, headers, body = read_response(sock)

    assert status == expected_status
    assert json.loads(body) == {"data": {}, "message": json.loads(body)["message"], "status": status}
    assert (headers["content-type"], headers["connection"]) == ("application/json", "close")
    assert hung_up_after(sock) < HANG_UP_WITHIN


def upgrade_request(path: bytes, protocol: bytes) -> bytes:
    return (
        b"GET %s HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: %s\r\n"
        b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n" % (path, protocol)
    )


@pytest.mark.parametrize("upgrade", [b"websocket", b"h2c"])
def test_an_upgrade_request_is_answered_as_a_plain_one_then_the_connection_closes(connect, upgrade):
    sock = connect()
    sock.sendall(upgrade_request(b"/api/health", upgrade))

    status, headers, body = read_response(sock)

    assert (status, json.loads(body)["code"], headers["connection"]) == (200, 200, "close")
    assert hung_up_after(sock) < HANG_UP_WITHIN


# --------------------------------------------------------------------------- the real PocketBase

#: Requests llhttp refuses as sent, but Go's server and PocketBase's router answer.
UNPARSED_REQUESTS = [
    b"get /api/health HTTP/1.1\r\nHost: x\r\n\r\n",
    b"FOO /api/health HTTP/1.1\r\nHost: x\r\n\r\n",
    b"A" * 100 + b" /api/health HTTP/1.1\r\nHost: x\r\n\r\n",
    b"post /api/nope HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}",
    b"CONNECT /api/health HTTP/1.1\r\nHost: x\r\n\r\n",
    b"TRACE /api/health HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET /api/he\xffalth HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET /api/health?a=\xff\xfe HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET /api/health?sort=" + b"a" * 60_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET /api/health?" + b"a=b&" * 15_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET /api/health?sort=" + b"%41" * 70_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET /n%C3%B6pe?" + b"a" * 200_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
    upgrade_request(b"/api/health", b"websocket"),
    upgrade_request(b"/nope", b"websocket"),
]
COMPARED_HEADERS = ["content-type", "x-content-type-options", "x-frame-options", "vary"]


def wire_answer(port: int, raw: bytes) -> dict[str, Any]:
    with socket.create_connection(("127.0.0.1", port), timeout=HANG_UP_WITHIN) as sock:
        sock.sendall(raw)
        status, headers, body = read_response(sock)
    return {
        "status": status,
        "body": json.loads(body),
        "headers": {name: headers.get(name) for name in COMPARED_HEADERS},
    }


@pytest.mark.slow
def test_requests_the_parser_refuses_are_answered_as_the_real_pocketbase_binary(pocketbase_factory, server):
    real = pocketbase_factory()
    for raw in UNPARSED_REQUESTS:
        label = re.sub(rb"(.)\1{20,}", rb"\1...", raw.split(b"\r\n")[0])
        assert wire_answer(port_of(server), raw) == wire_answer(port_of(real), raw), label
